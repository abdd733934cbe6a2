package deflate

import "testing"

// Skewed frequencies (Fibonacci: the deepest Huffman trees) must still give
// complete codes within the length limit, shorter codes to more frequent
// symbols, and prefix-free canonical codes.
func TestHuffmanLengthLimit(t *testing.T) {
	for _, c := range []struct {
		symbols, maxBits int
	}{{30, maxDistBits}, {286, maxLitLenBits}, {19, maxCodeLenBits}, {2, 7}} {
		freq := make([]uint32, c.symbols)
		a, b := uint32(1), uint32(1)
		for i := range freq {
			freq[i] = a
			a, b = b, a+b
			if b > 1<<30 {
				a, b = 1, 1
			}
		}
		lens := make([]uint8, c.symbols)
		codes := make([]code, c.symbols)
		var h huffman
		h.build(freq, c.maxBits, lens, codes)
		kraft := 0
		for i, l := range lens {
			if l == 0 || int(l) > c.maxBits {
				t.Fatalf("%d symbols, max %d: symbol %d has length %d", c.symbols, c.maxBits, i, l)
			}
			kraft += 1 << (c.maxBits - int(l))
			for j := range lens {
				if freq[j] > freq[i] && lens[j] > l {
					t.Errorf("symbol %d (freq %d) got a longer code than %d (freq %d)", j, freq[j], i, freq[i])
				}
			}
		}
		if kraft != 1<<c.maxBits {
			t.Errorf("%d symbols, max %d: Kraft sum %d/%d, want a complete code", c.symbols, c.maxBits, kraft, 1<<c.maxBits)
		}
		for i := range codes {
			for j := range codes {
				if i == j || codes[i].len > codes[j].len {
					continue
				}
				mask := uint16(1)<<codes[i].len - 1 // codes are bit-reversed: prefixes are low bits
				if codes[j].bits&mask == codes[i].bits {
					t.Fatalf("code of %d is a prefix of %d's", i, j)
				}
			}
		}
	}
}
