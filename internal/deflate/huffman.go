package deflate

import (
	"math/bits"
	"slices"
)

// DEFLATE's alphabets (RFC 1951 3.2.5).
const (
	endOfBlock     = 256
	numLitLen      = 286 // 0-255 literals, 256 end of block, 257-285 lengths
	numDist        = 30
	numCodeLen     = 19
	maxLitLenBits  = 15
	maxDistBits    = 15
	maxCodeLenBits = 7
)

// Length symbols: base length and extra bits of codes 257..285.
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// The order code length code lengths are sent in (RFC 1951 3.2.7).
	codeLenOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	lengthCode [256]uint8 // match length-3 → length code index (0..28)
	distCode   [512]uint8 // dist-1 < 256: [dist-1]; else [256+(dist-1)>>7]
)

func init() {
	for c := 0; c < 29; c++ {
		n := 1 << lengthExtra[c]
		for i := 0; i < n; i++ {
			if l := int(lengthBase[c]) - 3 + i; l < 256 {
				lengthCode[l] = uint8(c)
			}
		}
	}
	lengthCode[255] = 28 // 258 has its own code, not 227+31 of code 27
	for c := 0; c < 30; c++ {
		n := 1 << distExtra[c]
		for i := 0; i < n; i++ {
			d := int(distBase[c]) - 1 + i
			if d < 256 {
				distCode[d] = uint8(c)
			} else {
				distCode[256+d>>7] = uint8(c)
			}
		}
	}
}

func distCodeOf(d uint32) uint8 { // d = distance-1
	if d < 256 {
		return distCode[d]
	}
	return distCode[256+d>>7]
}

// code is one symbol's Huffman code, bit-reversed for the LSB-first stream.
type code struct {
	bits uint16
	len  uint8
}

// huffman builds length-limited canonical Huffman codes.
type huffman struct {
	leaves []leaf
	weight []uint64
	parent []int32
	depth  []uint8
}

type leaf struct {
	freq uint32
	sym  uint16
}

// build sets lens[i] for every symbol of freq (0 for unused ones) and the
// matching canonical codes. At least two symbols must be used.
func (h *huffman) build(freq []uint32, maxBits int, lens []uint8, codes []code) {
	h.leaves = h.leaves[:0]
	for i, f := range freq {
		lens[i] = 0
		if f > 0 {
			h.leaves = append(h.leaves, leaf{f, uint16(i)})
		}
	}
	n := len(h.leaves)
	slices.SortFunc(h.leaves, func(a, b leaf) int {
		if a.freq != b.freq {
			if a.freq < b.freq {
				return -1
			}
			return 1
		}
		return int(a.sym) - int(b.sym)
	})
	// Two-queue Huffman: leaves are sorted, internal nodes are made in
	// nondecreasing weight order, so each queue stays sorted. Nodes
	// 0..n-1 are the leaves, n..2n-2 the internal nodes (root last).
	h.parent = slices.Grow(h.parent[:0], 2*n)[:2*n-1]
	weight := h.weight[:0]
	for _, l := range h.leaves {
		weight = append(weight, uint64(l.freq))
	}
	li, ii := 0, n // next leaf, next internal node to combine
	pick := func() int {
		if li < n && (ii >= len(weight) || weight[li] <= weight[ii]) {
			li++
			return li - 1
		}
		ii++
		return ii - 1
	}
	for k := n; k < 2*n-1; k++ {
		a, b := pick(), pick()
		weight = append(weight, weight[a]+weight[b])
		h.parent[a], h.parent[b] = int32(k), int32(k)
	}
	h.weight = weight
	h.depth = slices.Grow(h.depth[:0], 2*n)[:2*n-1]
	h.depth[2*n-2] = 0
	var count [32]int
	for i := 2*n - 3; i >= 0; i-- {
		d := h.depth[h.parent[i]] + 1
		h.depth[i] = d
		if i < n {
			count[min(int(d), 31)]++
		}
	}
	// Limit the lengths: move the overlong leaves to maxBits, then restore
	// Kraft's equality by lengthening one shorter leaf per surplus unit.
	for l := maxBits + 1; l < 32; l++ {
		count[maxBits] += count[l]
		count[l] = 0
	}
	total := 0
	for l := 1; l <= maxBits; l++ {
		total += count[l] << (maxBits - l)
	}
	for total > 1<<maxBits {
		count[maxBits]--
		for l := maxBits - 1; l > 0; l-- {
			if count[l] > 0 {
				count[l]--
				count[l+1] += 2
				break
			}
		}
		total--
	}
	// The rarest symbols get the longest codes.
	k := 0
	for l := maxBits; l > 0; l-- {
		for c := count[l]; c > 0; c-- {
			lens[h.leaves[k].sym] = uint8(l)
			k++
		}
	}
	canonical(lens, codes)
}

// canonical assigns RFC 1951's canonical codes for lens, bit-reversed.
func canonical(lens []uint8, codes []code) {
	var count, next [16]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	c := uint16(0)
	for l := 1; l < 16; l++ {
		c = (c + count[l-1]) << 1
		next[l] = c
	}
	for i, l := range lens {
		if l == 0 {
			codes[i] = code{}
			continue
		}
		codes[i] = code{bits: bits.Reverse16(next[l]) >> (16 - l), len: l}
		next[l]++
	}
}
