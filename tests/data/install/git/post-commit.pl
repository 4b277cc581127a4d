#!/usr/bin/env perl
use strict;
use warnings;
my $dir = `git rev-parse --git-dir`;
chomp $dir;
open(my $fh, '>>', "$dir/perl-hook-ran") or die;
print $fh "ran\n";
exit 0;
