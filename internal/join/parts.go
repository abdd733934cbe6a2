package join

import (
	"bytes"
	"cmp"
	"slices"
)

// The record keys of a part, as the fluentd log driver writes them.
const (
	KeyMessage = "partial_message"
	KeyID      = "partial_id"
	KeyOrdinal = "partial_ordinal"
	KeyLast    = "partial_last"
)

// IncompleteKey is the attribute (value true) added to a part delivered on
// its own because its sequence is not complete inside the chunk.
const IncompleteKey = "ddgo_partial_incomplete"

// part is one record of the chunk that says it is a part.
type part struct {
	idx int32 // event index in the chunk
	f   fields
}

// joinParts decides what becomes of every part: sequences are the parts
// sharing an ID; one is complete when its ordinals are exactly 1..n, only
// the n-th is last, and every message is a string. The first part (by
// ordinal) of a complete sequence heads the line, its later parts chained
// to it in ordinal order and folded; the parts of the other sequences are
// marked.
func (j *joiner) joinParts(parts []part) {
	order := make([]int, 0, len(parts))
	for i := range parts {
		if !parts[i].f.usable() {
			j.ents[parts[i].idx].act = mark
			continue
		}
		order = append(order, i)
	}
	slices.SortFunc(order, func(a, b int) int {
		pa, pb := &parts[a], &parts[b]
		if c := bytes.Compare(pa.f.id, pb.f.id); c != 0 {
			return c
		}
		if pa.f.ord != pb.f.ord {
			return cmp.Compare(pa.f.ord, pb.f.ord)
		}
		return cmp.Compare(pa.idx, pb.idx)
	})
	for s := 0; s < len(order); {
		e := s + 1
		for e < len(order) && bytes.Equal(parts[order[e]].f.id, parts[order[s]].f.id) {
			e++
		}
		complete := true
		for k := s; k < e; k++ {
			p := &parts[order[k]]
			if p.f.ord != k-s+1 || p.f.last != (k == e-1) {
				complete = false
				break
			}
		}
		for k := s; k < e; k++ {
			x := &j.ents[parts[order[k]].idx]
			switch {
			case !complete:
				x.act = mark
			case k == s:
				x.act, x.isPart = head, true
				j.counts.SplitJoined++
			default:
				x.act = fold
				j.ents[parts[order[k-1]].idx].next = parts[order[k]].idx
			}
		}
		s = e
	}
	for i := range parts {
		if j.ents[parts[i].idx].act == mark {
			j.counts.Incomplete++
		}
	}
}
