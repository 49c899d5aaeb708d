# What the folder READMEs say, for the tree checks (tree.t, symbols.t): for each
# folder with C sources, the files its table lists and the folders its
# "May include:" line allows.
package TreeRules;
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Find;
use Exporter qw(import);
our @EXPORT_OK = qw(source_dirs read_readme);

# Folders with C sources, outside tests/ and build output, relative to the root.
sub source_dirs {
    my %dirs;
    find({ no_chdir => 1, wanted => sub {
        if (-d $_ && m{^\./(?:\.git|tests|build[^/]*)$}) { $File::Find::prune = 1; return; }
        $dirs{ substr(dirname($_), 2) } = 1 if -f $_ && /\.[ch]$/;
    } }, '.');
    return sort keys %dirs;
}

# `a.{h,c}` and `a.[ch]` -> a.h a.c
sub expand {
    my $t = shift;
    return map { "$1$_$3" } split /,/, $2 if $t =~ /^(.*)\{([^}]*)\}(.*)$/;
    return map { "$1$_$3" } split //, $2 if $t =~ /^(.*)\[([^\]]*)\](.*)$/;
    return ($t);
}

# (\%listed, \%allowed or undef when there is no "May include:" line); undef if no README.
sub read_readme {
    my $d = shift;
    open my $fh, '<', "$d/README.md" or return;
    my (%listed, $may);
    while (my $line = <$fh>) {
        # A table row's first cell, or a list item's words before its first ": ".
        my $cell;
        if ($line =~ /^\|/) { $cell = (split /\|/, $line)[1] // ''; }
        elsif ($line =~ /^[-*] (.*?)(?::\s|$)/) { $cell = $1; }
        if (defined $cell) {
            for my $tok ($cell =~ /`([^`]+)`/g) {
                $listed{$_} = 1 for grep { !m{/} && /\.\w+$/ } expand($tok);
            }
        } elsif ($line =~ /^May include:\s*(.*)$/) {
            $may = { map { (s{/$}{}r) => 1 } ($1 =~ /`([^`]+)`/g) };
        }
    }
    close $fh;
    return (\%listed, $may);
}

1;
