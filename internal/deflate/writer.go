package deflate

import "encoding/binary"

// bitWriter appends an LSB-first bit stream to out.
type bitWriter struct {
	acc uint64
	n   uint // bits held in acc, < 32 between calls
	out []byte
}

// put writes the low nb (<= 32) bits of v.
func (w *bitWriter) put(v uint32, nb uint8) {
	w.acc |= uint64(v) << w.n
	w.n += uint(nb)
	if w.n >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.acc))
		w.acc >>= 32
		w.n -= 32
	}
}

// align pads to a byte boundary and empties acc into out.
func (w *bitWriter) align() {
	w.flushWhole()
	if w.n > 0 {
		w.out = append(w.out, byte(w.acc))
	}
	w.acc, w.n = 0, 0
}

// block is the symbol statistics and tokens of one DEFLATE block.
type block struct {
	tokens   []uint32 // literal byte, or matchFlag | (length-3)<<16 | (distance-1)
	litFreq  [numLitLen]uint32
	distFreq [numDist]uint32

	h         huffman
	litLens   [numLitLen]uint8
	distLens  [numDist]uint8
	litCodes  [numLitLen]code
	distCodes [numDist]code
	clFreq    [numCodeLen]uint32
	clLens    [numCodeLen]uint8
	clCodes   [numCodeLen]code
	rle       []uint16 // code length symbols: sym | extra<<8
}

const matchFlag = 1 << 31

func (b *block) reset() {
	b.tokens = b.tokens[:0]
	b.litFreq = [numLitLen]uint32{}
	b.distFreq = [numDist]uint32{}
}

func (b *block) literal(c byte) {
	b.tokens = append(b.tokens, uint32(c))
	b.litFreq[c]++
}

// match records a copy of length (3..258) bytes from distance (1..32768).
func (b *block) match(length, distance int) {
	l, d := uint32(length-3), uint32(distance-1)
	b.tokens = append(b.tokens, matchFlag|l<<16|d)
	b.litFreq[257+int(lengthCode[l])]++
	b.distFreq[distCodeOf(d)]++
}

// write encodes the block to w: as a dynamic Huffman block, or stored when
// that is smaller (raw is the block's input).
func (b *block) write(w *bitWriter, raw []byte, final bool) {
	b.litFreq[endOfBlock] = 1
	ensureTwo(b.litFreq[:])
	ensureTwo(b.distFreq[:])
	b.h.build(b.litFreq[:], maxLitLenBits, b.litLens[:], b.litCodes[:])
	b.h.build(b.distFreq[:], maxDistBits, b.distLens[:], b.distCodes[:])
	nlit, ndist := numLitLen, numDist
	for nlit > 257 && b.litLens[nlit-1] == 0 {
		nlit--
	}
	for ndist > 1 && b.distLens[ndist-1] == 0 {
		ndist--
	}
	b.runLengths(nlit, ndist)
	ensureTwo(b.clFreq[:])
	b.h.build(b.clFreq[:], maxCodeLenBits, b.clLens[:], b.clCodes[:])
	ncl := numCodeLen
	for ncl > 4 && b.clLens[codeLenOrder[ncl-1]] == 0 {
		ncl--
	}

	// Size of the dynamic block in bits, to compare with storing.
	size := 3 + 5 + 5 + 4 + 3*ncl
	for _, r := range b.rle {
		sym := r & 0xff
		size += int(b.clLens[sym]) + int(repeatExtra[sym])
	}
	for i, f := range b.litFreq[:nlit] {
		size += int(f) * int(b.litLens[i])
		if i > 256 {
			size += int(f) * int(lengthExtra[i-257])
		}
	}
	for i, f := range b.distFreq[:ndist] {
		size += int(f) * (int(b.distLens[i]) + int(distExtra[i]))
	}
	if storedBits(len(raw)) <= size {
		writeStored(w, raw, final)
		return
	}

	w.put(uint32(boolInt(final))|2<<1, 3)
	w.put(uint32(nlit-257), 5)
	w.put(uint32(ndist-1), 5)
	w.put(uint32(ncl-4), 4)
	for _, s := range codeLenOrder[:ncl] {
		w.put(uint32(b.clLens[s]), 3)
	}
	for _, r := range b.rle {
		sym, extra := r&0xff, uint32(r>>8)
		c := b.clCodes[sym]
		w.put(uint32(c.bits)|extra<<c.len, c.len+repeatExtra[sym])
	}
	b.writeTokens(w)
}

// writeTokens is the hot part of write: up to 48 bits per token go into a
// 64-bit accumulator, which is stored 8 bytes at a time and advanced by
// whole bytes only when it holds 16 bits or more.
func (b *block) writeTokens(w *bitWriter) {
	w.flushWhole()
	acc, n := w.acc, w.n
	out := w.out
	lit, dist := &b.litCodes, &b.distCodes
	for _, t := range b.tokens {
		if n >= 16 {
			if cap(out)-len(out) < 8 {
				out = append(out, make([]byte, 8+len(out)/2)...)[:len(out)]
			}
			k := len(out)
			binary.LittleEndian.PutUint64(out[k:k+8], acc)
			out = out[:k+int(n>>3)]
			acc >>= n &^ 7
			n &= 7
		}
		if t&matchFlag == 0 {
			c := lit[uint8(t)]
			acc |= uint64(c.bits) << n
			n += uint(c.len)
			continue
		}
		l, d := (t>>16)&0xff, t&0xffff
		lc := lengthCode[l]
		c := lit[257+int(lc)&31]
		acc |= (uint64(c.bits) | uint64(l+3-uint32(lengthBase[lc]))<<c.len) << n
		n += uint(c.len + lengthExtra[lc])
		dc := distCodeOf(d)
		c = dist[dc&31]
		acc |= (uint64(c.bits) | uint64(d+1-uint32(distBase[dc]))<<c.len) << n
		n += uint(c.len + distExtra[dc])
	}
	w.acc, w.n, w.out = acc, n, out
	w.flushWhole()
	c := lit[endOfBlock]
	w.put(uint32(c.bits), c.len)
}

// flushWhole moves the whole bytes of acc to out, leaving fewer than 8 bits.
func (w *bitWriter) flushWhole() {
	for w.n >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ensureTwo makes at least two symbols used, so every code is complete
// (a decoder may refuse a one-symbol code); the cost is a few header bits.
func ensureTwo(freq []uint32) {
	used := 0
	for _, f := range freq {
		if f > 0 {
			used++
		}
	}
	for i := 0; used < 2; i++ {
		if freq[i] == 0 {
			freq[i] = 1
			used++
		}
	}
}

// runLengths encodes the literal/length and distance code lengths with the
// code length alphabet's repeat symbols (16, 17, 18) into b.rle and counts
// them in b.clFreq.
func (b *block) runLengths(nlit, ndist int) {
	b.rle = b.rle[:0]
	b.clFreq = [numCodeLen]uint32{}
	var all [numLitLen + numDist]uint8
	n := copy(all[:], b.litLens[:nlit])
	n += copy(all[n:], b.distLens[:ndist])
	lens := all[:n]
	emit := func(sym, extra int) {
		b.rle = append(b.rle, uint16(sym|extra<<8))
		b.clFreq[sym]++
	}
	for i := 0; i < len(lens); {
		l := lens[i]
		run := 1
		for i+run < len(lens) && lens[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for run >= 11 {
				r := min(run, 138)
				emit(18, r-11)
				run -= r
			}
			if run >= 3 {
				emit(17, run-3)
				run = 0
			}
		} else {
			emit(int(l), 0)
			run--
			for run >= 3 {
				r := min(run, 6)
				emit(16, r-3)
				run -= r
			}
		}
		for ; run > 0; run-- {
			emit(int(l), 0)
		}
	}
}

// repeatExtra is the extra bits of each code length symbol.
var repeatExtra = [numCodeLen]uint8{16: 2, 17: 3, 18: 7}

// storedBits bounds the size of size bytes as stored blocks: per block a
// 3-bit header, up to 7 bits of padding and LEN/NLEN.
func storedBits(size int) int {
	blocks := max(1, (size+65534)/65535)
	return (3+7+32)*blocks + 8*size
}

// writeStored writes raw as stored blocks (at most 65,535 bytes each).
func writeStored(w *bitWriter, raw []byte, final bool) {
	for first := true; first || len(raw) > 0; first = false {
		n := min(len(raw), 65535)
		last := final && n == len(raw)
		w.put(uint32(boolInt(last)), 3)
		w.align()
		w.out = binary.LittleEndian.AppendUint16(w.out, uint16(n))
		w.out = binary.LittleEndian.AppendUint16(w.out, ^uint16(n))
		w.out = append(w.out, raw[:n]...)
		raw = raw[n:]
	}
}
