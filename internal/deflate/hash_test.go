package deflate

import (
	"math/rand/v2"
	"testing"
)

// hashLong hashes 7 bytes, as the package doc and docs/design-notes.md
// say: strings that differ only in their 8th byte land in the same bucket
// of the long table, strings that differ in any of the first 7 (almost
// always) do not.
func TestHashLongHashesSevenBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	differ := [8]int{}
	const n = 1000
	for range n {
		u := rng.Uint64()
		for byteIdx := range 8 {
			v := u ^ uint64(1+rng.IntN(255))<<(8*byteIdx) // byte byteIdx of the string changed
			if hashLong(v) != hashLong(u) {
				differ[byteIdx]++
			}
		}
	}
	if differ[7] != 0 {
		t.Errorf("the 8th byte changed the hash %d times in %d", differ[7], n)
	}
	for i := range 7 {
		if differ[i] < n*99/100 {
			t.Errorf("byte %d changed the hash only %d times in %d", i, differ[i], n)
		}
	}
}
