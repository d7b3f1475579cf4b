#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Pack mtia-fw into a bootable image, or check an image.

  pack.py [--flags F] [--fw-version V] -o OUT mtia-fw.elf
  pack.py --check IMAGE

An image is struct mtia_fw_header (include/mtia/mtia_spec.h) followed by the
payload: the ELF's loadable bytes from the lowest load address up. The
header's sha256 covers the header with sha256 zeroed, then the payload.
pack.py writes unsigned images (sig_size 0); firmware/sign/mtia-fw-sign signs
them (appends struct mtia_fw_sig). --check checks a signature block's form;
the signature itself is checked by `mtia-fw-sign verify` (Ed25519 is not in
Python's standard library).

The constants and the header layout are read from mtia_spec.h on every run
and compared with the layout this script writes, so a change to the C struct
that is not mirrored here fails the build.
"""
import argparse
import hashlib
import os
import re
import struct
import sys

DEFAULT_SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            '..', 'include', 'mtia', 'mtia_spec.h')

# The layout this script writes: (C type, field, array length).
HEADER_FIELDS = [
    ('uint32_t', 'magic', 1),
    ('uint16_t', 'format_version', 1),
    ('uint16_t', 'header_size', 1),
    ('uint32_t', 'load_addr', 1),
    ('uint32_t', 'entry', 1),
    ('uint32_t', 'payload_size', 1),
    ('uint32_t', 'fw_version', 1),
    ('uint32_t', 'flags', 1),
    ('uint32_t', 'sig_size', 1),
    ('uint32_t', 'reserved', 4),
    ('uint8_t', 'sha256', 32),
]
HEADER_FMT = '<IHHIIIIII4I32s'
# struct mtia_fw_sig: magic, alg, reserved, key_id[8], signature[64]
SIG_FMT = '<IHH8s64s'
SHA_OFFSET = struct.calcsize(HEADER_FMT) - 32


class PackError(Exception):
    pass


# ---- the spec -----------------------------------------------------------

class Spec:
    def __init__(self, path):
        with open(path, encoding='utf-8') as f:
            text = f.read()
        self.path = path
        self.defines = {}
        self._parse_defines(text)
        self.header_fields = self._parse_struct(text, 'mtia_fw_header')

    def _parse_defines(self, text):
        text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
        for m in re.finditer(r'^[ \t]*#define[ \t]+(MTIA_\w+)[ \t]+(.+)$', text, re.M):
            name, expr = m.group(1), m.group(2).strip()
            try:
                self.defines[name] = self._eval(expr)
            except Exception:  # function-like macros, casts: not needed here
                pass

    def _eval(self, expr):
        expr = re.sub(r'\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b', r'\1', expr)
        expr = re.sub(r'\b(MTIA_\w+)\b', lambda m: str(self.defines[m.group(1)]), expr)
        if not re.fullmatch(r'[0-9a-fA-FxX()<>|&+\-* \t]+', expr):
            raise ValueError(expr)
        return int(eval(expr, {'__builtins__': {}}))  # digits and operators only

    def _parse_struct(self, text, name):
        m = re.search(r'struct\s+%s\s*\{(.*?)\};' % name, text, re.S)
        if not m:
            raise PackError('struct %s not found in the spec' % name)
        body = re.sub(r'/\*.*?\*/', ' ', m.group(1), flags=re.S)
        fields = []
        for fm in re.finditer(r'(u?int\d+_t)\s+(\w+)\s*(?:\[\s*(\w+)\s*\])?\s*;', body):
            count = fm.group(3) or '1'
            count = self.defines[count] if count in self.defines else int(count, 0)
            fields.append((fm.group(1), fm.group(2), count))
        return fields

    def __getitem__(self, name):
        if name not in self.defines:
            raise PackError('%s: %s not defined' % (self.path, name))
        return self.defines[name]

    def check_layout(self):
        """Fail if the C header differs from what this script writes."""
        if self.header_fields != HEADER_FIELDS:
            raise PackError('struct mtia_fw_header in %s differs from pack.py:\n  spec:    %s\n'
                            '  pack.py: %s\nupdate HEADER_FIELDS and HEADER_FMT'
                            % (self.path, self.header_fields, HEADER_FIELDS))
        size = 0
        for ctype, _, count in HEADER_FIELDS:
            width = int(re.search(r'\d+', ctype).group()) // 8
            size = (size + width - 1) // width * width + width * count
        if size != struct.calcsize(HEADER_FMT) or size != self['MTIA_FW_HEADER_SIZE']:
            raise PackError('header size: C layout %d, pack.py %d, MTIA_FW_HEADER_SIZE %d'
                            % (size, struct.calcsize(HEADER_FMT), self['MTIA_FW_HEADER_SIZE']))
        if struct.calcsize(SIG_FMT) != self['MTIA_FW_SIG_SIZE']:
            raise PackError('signature block: pack.py %d bytes, MTIA_FW_SIG_SIZE %d'
                            % (struct.calcsize(SIG_FMT), self['MTIA_FW_SIG_SIZE']))


# ---- ELF ----------------------------------------------------------------

def elf_payload(path):
    """(load_addr, entry, payload bytes, end of memory image) of an ELF32 RISC-V file."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF':
        raise PackError('%s: not an ELF file' % path)
    if data[4] != 1 or data[5] != 1:
        raise PackError('%s: not a 32-bit little-endian ELF' % path)
    (e_type, e_machine, _, e_entry, e_phoff, _, _, _, e_phentsize,
     e_phnum) = struct.unpack_from('<HHIIIIIHHH', data, 16)
    if e_type != 2 or e_machine != 243:
        raise PackError('%s: not a RISC-V executable' % path)
    segs = []
    mem_end = 0
    for i in range(e_phnum):
        p_type, p_offset, _, p_paddr, p_filesz, p_memsz, _, _ = struct.unpack_from(
            '<IIIIIIII', data, e_phoff + i * e_phentsize)
        if p_type != 1 or p_memsz == 0:  # PT_LOAD only
            continue
        mem_end = max(mem_end, p_paddr + p_memsz)
        if p_filesz:
            segs.append((p_paddr, data[p_offset:p_offset + p_filesz]))
    if not segs:
        raise PackError('%s: no loadable bytes' % path)
    base = min(a for a, _ in segs)
    payload = bytearray(max(a + len(b) for a, b in segs) - base)
    for addr, blob in segs:
        payload[addr - base:addr - base + len(blob)] = blob
    return base, e_entry, bytes(payload), mem_end


# ---- images -------------------------------------------------------------

def digest(header_wo_sha, payload):
    h = hashlib.sha256()
    h.update(header_wo_sha[:SHA_OFFSET] + bytes(32))
    h.update(payload)
    return h.digest()


def check_placement(spec, load_addr, entry, payload_size, mem_end=None):
    sram_lo = spec['MTIA_CC_SRAM_BASE']
    sram_hi = sram_lo + spec['MTIA_CC_SRAM_SIZE']
    end = load_addr + payload_size
    if load_addr < sram_lo or end > sram_hi or payload_size == 0:
        raise PackError('payload 0x%08x..0x%08x is not inside the control-core SRAM 0x%08x..0x%08x'
                        % (load_addr, end, sram_lo, sram_hi))
    if mem_end is not None and mem_end > sram_hi:
        raise PackError('image with .bss ends at 0x%08x, past the SRAM end 0x%08x'
                        % (mem_end, sram_hi))
    if not load_addr <= entry < end or entry % 4:
        raise PackError('entry 0x%08x is outside the payload or not 4-byte aligned' % entry)


def parse_flags(spec, text):
    value = 0
    for part in re.split(r'[,|]', text):
        part = part.strip()
        if not part:
            continue
        if re.fullmatch(r'0[xX][0-9a-fA-F]+|\d+', part):
            value |= int(part, 0)
        else:
            value |= spec['MTIA_FW_FLAG_' + part.upper().removeprefix('MTIA_FW_FLAG_')]
    if value >> 32:
        raise PackError('flags do not fit in 32 bits')
    return value


def parse_version(text):
    m = re.fullmatch(r'(\d+)\.(\d+)\.(\d+)', text)
    if m:
        major, minor, patch = (int(x) for x in m.groups())
        if major > 0xffff or minor > 0xff or patch > 0xff:
            raise PackError('version %s out of range (major <= 65535, minor/patch <= 255)' % text)
        return major << 16 | minor << 8 | patch
    return int(text, 0)


def version_str(v):
    return '%d.%d.%d' % (v >> 16, (v >> 8) & 0xff, v & 0xff)


def pack(spec, elf, out, flags, fw_version):
    load_addr, entry, payload, mem_end = elf_payload(elf)
    check_placement(spec, load_addr, entry, len(payload), mem_end)
    if flags & ~spec['MTIA_FW_FLAGS_KNOWN']:
        print('pack.py: warning: flags 0x%x include unknown bits (the boot ROM may refuse them)'
              % flags, file=sys.stderr)
    fields = [spec['MTIA_FW_MAGIC'], spec['MTIA_FW_FORMAT_VERSION'], spec['MTIA_FW_HEADER_SIZE'],
              load_addr, entry, len(payload), fw_version, flags, 0, 0, 0, 0, 0]  # sig_size 0: unsigned
    header = struct.pack(HEADER_FMT, *fields, bytes(32))
    header = struct.pack(HEADER_FMT, *fields, digest(header, payload))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(header + payload)
    os.replace(tmp, out)
    print('pack.py: %s: %d bytes (payload %d at 0x%08x, entry 0x%08x, version %s, flags 0x%x)'
          % (out, len(header) + len(payload), len(payload), load_addr, entry,
             version_str(fw_version), flags))


def check(spec, path):
    with open(path, 'rb') as f:
        data = f.read()
    hsize = struct.calcsize(HEADER_FMT)
    if len(data) < hsize:
        raise PackError('%s: %d bytes, shorter than the header' % (path, len(data)))
    (magic, fmt, header_size, load_addr, entry, payload_size, fw_version, flags, sig_size,
     *rest) = struct.unpack_from(HEADER_FMT, data)
    reserved, sha = rest[:4], rest[4]
    print('magic:          0x%08x' % magic)
    print('format_version: %d' % fmt)
    print('header_size:    %d' % header_size)
    print('load_addr:      0x%08x' % load_addr)
    print('entry:          0x%08x' % entry)
    print('payload_size:   %d' % payload_size)
    print('fw_version:     0x%06x (%s)' % (fw_version, version_str(fw_version)))
    print('flags:          0x%x' % flags)
    print('sig_size:       %d' % sig_size)
    print('sha256:         %s' % sha.hex())
    if magic != spec['MTIA_FW_MAGIC']:
        raise PackError('bad magic 0x%08x' % magic)
    if fmt != spec['MTIA_FW_FORMAT_VERSION']:
        raise PackError('unknown format_version %d' % fmt)
    if header_size != spec['MTIA_FW_HEADER_SIZE'] or any(reserved):
        raise PackError('bad header: header_size %d, reserved %s' % (header_size, reserved))
    if flags & ~spec['MTIA_FW_FLAGS_KNOWN']:
        raise PackError('unknown flags 0x%x' % (flags & ~spec['MTIA_FW_FLAGS_KNOWN']))
    if sig_size not in (0, spec['MTIA_FW_SIG_SIZE']):
        raise PackError('bad sig_size %d' % sig_size)
    if len(data) != header_size + payload_size + sig_size:
        raise PackError('file is %d bytes, header says %d + %d + %d (signature)'
                        % (len(data), header_size, payload_size, sig_size))
    check_placement(spec, load_addr, entry, payload_size)
    if digest(data[:hsize], data[hsize:hsize + payload_size]) != sha:
        raise PackError('SHA-256 mismatch')
    if sig_size:
        smagic, alg, sres, key_id, _ = struct.unpack_from(SIG_FMT, data, hsize + payload_size)
        print('signature:      Ed25519, key id %s (not verified here: mtia-fw-sign verify)'
              % key_id.hex())
        if (smagic != spec['MTIA_FW_SIG_MAGIC'] or alg != spec['MTIA_FW_SIG_ALG_ED25519']
                or sres):
            raise PackError('malformed signature block (magic 0x%08x, alg %d, reserved %d)'
                            % (smagic, alg, sres))
    else:
        print('signature:      none (unsigned: the boot ROM refuses it)')
    print('%s: ok' % path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('elf', nargs='?', help='firmware ELF to pack')
    ap.add_argument('-o', '--output', help='image to write')
    ap.add_argument('--flags', default='0',
                    help='header flags: a number, or names like TEST_HANG,TEST_TRAP')
    ap.add_argument('--fw-version', default='0.1.0', help='MAJOR.MINOR.PATCH or a number')
    ap.add_argument('--check', metavar='IMAGE', help='validate IMAGE and print its header')
    ap.add_argument('--spec', default=DEFAULT_SPEC, help='path to mtia_spec.h')
    args = ap.parse_args()
    try:
        spec = Spec(args.spec)
        spec.check_layout()
        if args.check:
            check(spec, args.check)
            return 0
        if not args.elf or not args.output:
            ap.error('need an ELF and -o OUTPUT (or --check IMAGE)')
        pack(spec, args.elf, args.output, parse_flags(spec, args.flags),
             parse_version(args.fw_version))
        return 0
    except (PackError, OSError, KeyError, ValueError) as e:
        print('pack.py: error: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
