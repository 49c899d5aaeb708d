#!/usr/bin/perl
# tier: fast (reads the built objects), ~2 s
#
# The layers again, by symbol instead of by #include: an object of folder A
# that uses a function or variable defined in folder B is allowed only if A's
# README lets it include B (an `extern` written by hand would get past tree.t).
# Reads the objects of the build HULL belongs to ($HULL/../obj); skips, saying
# so, when there is none.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Find;
use Cwd qw(abs_path);
use lib dirname(__FILE__);
use TreeRules qw(source_dirs read_readme);

my $root = abs_path(dirname(__FILE__) . '/../..');
chdir $root or die "chdir $root: $!";
my $obj = defined $ENV{HULL} ? dirname($ENV{HULL}) . '/obj' : "$root/build/obj";
unless (-d $obj) { print "1..0 # SKIP no build objects at $obj (run make first)\n"; exit 0; }
system('nm --version >/dev/null 2>&1') == 0 or do { print "1..0 # SKIP nm (binutils) is not installed\n"; exit 0; };

my %allow;
for my $d (source_dirs()) { my (undef, $may) = read_readme($d); $allow{$d} = $may || {}; }

# Objects per folder, as built.
my %objs;
find({ no_chdir => 1, wanted => sub {
    return unless -f $_ && /\.o$/;
    my $rel = substr($_, length($obj) + 1);
    my $d = dirname($rel);
    return unless -f $rel =~ s/\.o$/.c/r;          # a stale object of a removed file
    push @{ $objs{$d} }, $_ if exists $allow{$d};
} }, $obj);

my (%defined_in, %uses);
for my $d (keys %objs) {
    for my $o (@{ $objs{$d} }) {
        open my $nm, '-|', 'nm', $o or die "nm $o: $!";
        while (<$nm>) {
            if (/^\s+U (\S+)$/) { $uses{$d}{$1}{ substr($o, length($obj) + 1) } = 1; }
            elsif (/^[0-9a-f]+ [TDBRCV] (\S+)$/) { $defined_in{$1} = $d; }
        }
        close $nm;
    }
}

my $n = 0;
my $fails = 0;
for my $d (sort keys %objs) {
    my @bad;
    for my $sym (sort keys %{ $uses{$d} }) {
        my $to = $defined_in{$sym} // next;        # libc and the libraries
        next if $to eq $d || $allow{$d}{$to};
        push @bad, "$_ uses $sym of $to/" for sort keys %{ $uses{$d}{$sym} };
    }
    $n++;
    print((@bad ? "not ok" : "ok") . " $n - $d/ uses only symbols of folders its README allows\n");
    print "# $_\n" for @bad;
    $fails++ if @bad;
}
if (!$n) { print "1..0 # SKIP no objects of the library folders under $obj\n"; exit 0; }
print "1..$n\n";
exit($fails ? 1 : 0);
