#!/bin/sh
# Builds the freestanding tier-2 test guests into flat binaries:
#   vm-shim/guests/build.sh OUTDIR
# Needs binutils (as, ld). Each guest is linked for its load address.
set -eu
src=$(dirname "$0")
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
as --32 -o "$out/hello16.o" "$src/hello16.S"
ld -m elf_i386 -Ttext=0x1000 -e _start --oformat binary -o "$out/hello16.bin" "$out/hello16.o"
rm -f "$out/hello16.o"
