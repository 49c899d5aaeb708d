#!/usr/bin/perl
# tier: fast (reads the tree only), ~1 s
#
# The tree is the architecture (ARCHITECTURE.md), so it is checked like code:
#  - every folder that holds C sources has a README.md whose file table (or
#    list: "- `file`: what it is") names exactly the files present (no file unlisted, none listed that is gone);
#  - every #include "..." of a project header stays in its own folder or names
#    a folder its README's "May include:" line allows;
#  - the allowed includes, folder to folder, have no cycle: layers point one way.
# Run from anywhere: prove tests/lint/tree.t
use strict;
use warnings;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $root = abs_path(dirname(__FILE__) . '/../..');
chdir $root or die "chdir $root: $!";

use lib dirname(__FILE__);
use TreeRules qw(source_dirs read_readme);
my @dirs = source_dirs();

my $n = 0;
my $fails = 0;
sub check { my ($ok, $name, @diag) = @_; $n++; print(($ok ? "ok" : "not ok") . " $n - $name\n"); 
            print "# $_\n" for @diag; $fails++ unless $ok; }

my %allow;   # dir -> { dir => 1 }
for my $d (@dirs) {
    my $readme = "$d/README.md";
    unless (-f $readme) { check(0, "$d/ has a README.md"); check(0, "$d/ includes only what its README allows"); next; }
    my ($listedref, $may) = read_readme($d);
    my %listed = %$listedref;
    opendir my $dh, $d or die "$d: $!";
    my %present = map { $_ => 1 } grep { -f "$d/$_" && $_ ne 'README.md' } readdir $dh;
    closedir $dh;
    my @unlisted = grep { !$listed{$_} } sort keys %present;
    my @gone = grep { !$present{$_} } sort keys %listed;
    check(!@unlisted && !@gone, "$d/README.md file table matches the folder",
          (map { "not in the table: $_" } @unlisted), (map { "in the table but absent: $_" } @gone));

    my %ok = $may ? %$may : ();
    $allow{$d} = \%ok;
    my @bad;
    for my $f (sort grep { /\.[ch]$/ } keys %present) {
        open my $src, '<', "$d/$f" or die "$d/$f: $!";
        while (my $l = <$src>) {
            next unless $l =~ /^\s*#\s*include\s+"([^"]+)"/;
            my $inc = $1;
            next unless $inc =~ m{/};           # a header of the same folder
            my $to = dirname($inc);
            next if $to eq $d || $ok{$to};
            push @bad, "$d/$f:$.: includes $inc ($to/ is not in \"May include:\")";
        }
        close $src;
    }
    check(defined $may && !@bad, "$d/ includes only what its README allows",
          (defined $may ? () : ("$readme has no \"May include:\" line")), @bad);
}

# The allowed graph is acyclic (Kahn's algorithm over the folders that have rules).
my %indeg = map { $_ => 0 } keys %allow;
for my $d (keys %allow) { for my $t (keys %{ $allow{$d} }) { $indeg{$t}++ if exists $indeg{$t}; } }
my @q = grep { !$indeg{$_} } keys %indeg;
my $seen = 0;
while (my $d = shift @q) {
    $seen++;
    for my $t (keys %{ $allow{$d} }) { next unless exists $indeg{$t}; push @q, $t unless --$indeg{$t}; }
}
my @cycle = sort grep { $indeg{$_} } keys %indeg;
check(!@cycle, "the folders' allowed includes form no cycle (layers point one way)",
      @cycle ? ("folders on or behind a cycle: @cycle") : ());

# Every allowed folder exists (a typo would silently allow nothing).
my @unknown;
for my $d (sort keys %allow) { push @unknown, map { "$d/ allows $_/" } grep { !-d $_ } sort keys %{ $allow{$d} }; }
check(!@unknown, "every folder named in a \"May include:\" line exists", @unknown);

print "1..$n\n";
exit($fails ? 1 : 0);
