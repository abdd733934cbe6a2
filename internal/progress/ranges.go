package progress

import "sort"

// span is the half-open run of record indexes [lo, hi).
type span struct{ lo, hi int32 }

// Ranges is a set of record indexes of one chunk, kept as sorted, disjoint,
// non-adjacent runs: the records of a chunk are shaped in order and cut into
// payloads of consecutive records, so what the intake accepted is a few long
// runs, not one bit per record. The zero value is empty. Not safe for
// concurrent use.
type Ranges struct{ s []span }

// Len is the number of runs (what an entry costs in memory).
func (r *Ranges) Len() int { return len(r.s) }

// Add inserts [lo, hi), merging with the runs it touches.
func (r *Ranges) Add(lo, hi int32) {
	if lo >= hi {
		return
	}
	// First run that ends at or after lo (may merge), and first that
	// starts after hi (may not).
	i := sort.Search(len(r.s), func(k int) bool { return r.s[k].hi >= lo })
	j := sort.Search(len(r.s), func(k int) bool { return r.s[k].lo > hi })
	if i == j { // touches nothing: insert
		r.s = append(r.s, span{})
		copy(r.s[i+1:], r.s[i:])
		r.s[i] = span{lo, hi}
		return
	}
	merged := span{min(lo, r.s[i].lo), max(hi, r.s[j-1].hi)}
	r.s[i] = merged
	r.s = append(r.s[:i+1], r.s[j:]...)
}

// AddIDs inserts every index of ids; consecutive indexes become one run.
func (r *Ranges) AddIDs(ids []int32) {
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[j-1]+1 {
			j++
		}
		r.Add(ids[i], ids[j-1]+1)
		i = j
	}
}

// Union adds every run of o.
func (r *Ranges) Union(o *Ranges) {
	for _, x := range o.s {
		r.Add(x.lo, x.hi)
	}
}

// Cursor answers Contains for increasing indexes in O(1) amortised: the
// flush asks about every record of a chunk in order.
type Cursor struct {
	r *Ranges
	k int
}

// Cursor starts a walk over r from index 0. A nil r contains nothing.
func (r *Ranges) Cursor() Cursor { return Cursor{r: r} }

// Contains reports whether i is in the set; i must not decrease between calls.
func (c *Cursor) Contains(i int32) bool {
	if c.r == nil {
		return false
	}
	for c.k < len(c.r.s) && c.r.s[c.k].hi <= i {
		c.k++
	}
	return c.k < len(c.r.s) && c.r.s[c.k].lo <= i
}
