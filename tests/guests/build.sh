#!/bin/sh
# Builds the freestanding tier-2 test guests into flat binaries:
#   tests/guests/build.sh OUTDIR
# Needs binutils (as, ld). Each guest is linked for its load address.
set -eu
src=$(dirname "$0")
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
as --32 -o "$out/hello16.o" "$src/hello16.S"
ld -m elf_i386 -Ttext=0x1000 -e _start --oformat binary -o "$out/hello16.bin" "$out/hello16.o"
rm -f "$out/hello16.o"
# PVH hand-off check: an ELF64 with a XEN_ELFNOTE_PHYS32_ENTRY note (32-bit code).
as --64 -o "$out/pvh32.o" "$src/pvh32.S"
ld -T "$src/pvh32.ld" -o "$out/pvh32.elf" "$out/pvh32.o"
# 64-bit boot protocol hand-off check: a minimal flat bzImage.
as --64 -o "$out/bz64.o" "$src/bz64.S"
ld -m elf_x86_64 -Ttext=0 -e 0 --oformat binary -o "$out/bz64.bin" "$out/bz64.o"
# The VMM's stop paths: a PVH guest that never ends by itself.
as --64 -o "$out/spin32.o" "$src/spin32.S"
ld -T "$src/pvh32.ld" -o "$out/spin32.elf" "$out/spin32.o"
# make bench: the smallest complete VM life (print, reset), for hull and qemu alike.
as --64 -o "$out/exit32.o" "$src/exit32.S"
ld -T "$src/pvh32.ld" -o "$out/exit32.elf" "$out/exit32.o"
rm -f "$out/pvh32.o" "$out/bz64.o" "$out/spin32.o" "$out/exit32.o"
