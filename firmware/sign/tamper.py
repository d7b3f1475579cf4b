#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Tamper with a signed mtia-fw image the way an attacker without the key
would: flip one payload byte and recompute the header's SHA-256 digest,
keeping the signature block. The digest then matches, the signature (over
the header, digest included) does not: the boot ROM must refuse the result
with MTIA_BOOT_ERR_BAD_SIGNATURE. For the negative test images.

  tamper.py -o OUT SIGNED_IMAGE
"""
import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import pack  # noqa: E402  (firmware/pack.py: the header layout and digest)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('image', help='signed image')
    ap.add_argument('-o', '--output', required=True, help='tampered image to write')
    args = ap.parse_args()
    data = bytearray(open(args.image, 'rb').read())
    hsize = struct.calcsize(pack.HEADER_FMT)
    fields = struct.unpack_from(pack.HEADER_FMT, data)
    header_size, payload_size, sig_size = fields[2], fields[5], fields[8]
    if header_size != hsize or not sig_size or len(data) != hsize + payload_size + sig_size:
        print('tamper.py: error: %s is not a signed image' % args.image, file=sys.stderr)
        return 1
    data[hsize + payload_size // 2] ^= 0x01  # a byte in the middle of the code
    sha = pack.digest(bytes(data[:hsize]), bytes(data[hsize:hsize + payload_size]))
    data[pack.SHA_OFFSET:hsize] = sha
    tmp = args.output + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, args.output)
    print('tamper.py: %s: payload byte %d flipped, digest recomputed, signature kept'
          % (args.output, payload_size // 2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
