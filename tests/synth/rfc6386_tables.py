"""Extract the constant tables of RFC 6386 (VP8) from the RFC's text into Rust.

Usage: python3 tests/synth/rfc6386_tables.py rfc6386.txt > src/codec/synth/tables.rs
(the text is https://www.rfc-editor.org/rfc/rfc6386.txt). Page headers and footers are
dropped, then each table's numbers are taken from its code block and counted.
"""
import re, sys
t = open(sys.argv[1]).read().split('\n')
clean = [l for l in t if not re.match(r'^(Bankoski, et al\.|RFC 6386 )', l) and '\f' not in l]
text = '\n'.join(clean)
def table(name, n, end='End code block'):
    i = text.index(name)
    j = text.index(end, i)
    body = text[text.index('=', i):j]
    nums = [int(x) for x in re.findall(r'\b\d+\b', body)]
    assert len(nums) == n, (name, len(nums))
    return nums
cu = table('const Prob coeff_update_probs [4] [8] [3] [num_dct_tokens-1] =', 1056)
dp = table('const Prob default_coeff_probs [4] [8] [3] [num_dct_tokens - 1] =', 1056)
dc = table('static const int dc_qlookup[QINDEX_RANGE] =', 128, '};')
ac = table('static const int ac_qlookup[QINDEX_RANGE] =', 128, '};')
out = []
w = out.append
w('//! Constant tables of RFC 6386, extracted mechanically from the RFC text by')
w('//! `tests/synth/rfc6386_tables.py` (do not edit by hand).')
w('')
def probs(name, doc, v):
    w(f'/// {doc}')
    w(f'pub(crate) const {name}: [[[[u8; 11]; 3]; 8]; 4] = [')
    k = 0
    for i in range(4):
        w('    [')
        for j in range(8):
            w('        [')
            for c in range(3):
                w('            [' + ', '.join(str(x) for x in v[k:k+11]) + '],')
                k += 11
            w('        ],')
        w('    ],')
    w('];')
    w('')
probs('COEFF_UPDATE_PROBS', 'RFC 6386 §13.4: the probability that a token probability is NOT updated (`coeff_update_probs`).', cu)
probs('DEFAULT_COEFF_PROBS', 'RFC 6386 §13.5: token probabilities at a key frame (`default_coeff_probs`), by block type, band, context, tree node.', dp)
def q(name, doc, v):
    w(f'/// {doc}')
    if name == 'AC_QLOOKUP':
        w('#[allow(dead_code)] // the test pattern codes DC terms only')
    w(f'pub(crate) const {name}: [u16; 128] = [')
    for i in range(0, 128, 16):
        w('    ' + ', '.join(str(x) for x in v[i:i+16]) + ',')
    w('];')
    w('')
q('DC_QLOOKUP', 'RFC 6386 §14.1: DC dequantization factor by quantizer index (`dc_qlookup`).', dc)
q('AC_QLOOKUP', 'RFC 6386 §14.1: AC dequantization factor by quantizer index (`ac_qlookup`).', ac)
sys.stdout.write('\n'.join(out).rstrip('\n') + '\n')
