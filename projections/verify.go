package projections

import (
	"bytes"
	"context"
	"strings"
)

// Difference is one key on which two read models disagree.
type Difference struct {
	Key      string `json:"key"`
	Expected string `json:"expected,omitempty"` // from the log; empty: the key should not exist
	Actual   string `json:"actual,omitempty"`   // in the store; empty: the key is missing
}

// Diff compares the read model the log gives (want, sorted by key) with the
// keys of store, and returns every difference. The checkpoint, which says how
// far each of them got, and keys an older version of Conveyor kept
// (aggregates/) are not compared.
func Diff(ctx context.Context, want []KV, store Store) ([]Difference, error) {
	want = compared(want)
	got, err := listAll(ctx, store)
	if err != nil {
		return nil, err
	}
	got = compared(got)
	var out []Difference
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || (i < len(want) && want[i].Key < got[j].Key):
			out = append(out, Difference{Key: want[i].Key, Expected: string(want[i].Value)})
			i++
		case i == len(want) || got[j].Key < want[i].Key:
			out = append(out, Difference{Key: got[j].Key, Actual: string(got[j].Value)})
			j++
		default:
			if !bytes.Equal(want[i].Value, got[j].Value) {
				out = append(out, Difference{Key: want[i].Key, Expected: string(want[i].Value), Actual: string(got[j].Value)})
			}
			i, j = i+1, j+1
		}
	}
	return out, nil
}

// VerifyReport says what a verify found.
type VerifyReport struct {
	Events      uint64       `json:"events"`
	Keys        int          `json:"keys"`
	Differences []Difference `json:"differences"`
}

// Verify replays the log into memory and reports every difference from the
// read models in use. Events appended while it runs can show up as
// differences; verify a quiet system, or run it twice.
func (m Maintenance) Verify(ctx context.Context, progress Progress) (VerifyReport, error) {
	mem := NewMemStore()
	last, err := Build(ctx, m.Log, NewProjectorWith(mem, m.Unmarshal).Keep(m.Retention), 1, progress)
	if err != nil {
		return VerifyReport{}, err
	}
	want := mem.All()
	diffs, err := Diff(ctx, want, m.Generations.At(m.Generations.Generation()))
	return VerifyReport{Events: last, Keys: len(want), Differences: diffs}, err
}

// listAll is every key of store, in key order.
func listAll(ctx context.Context, store Store) ([]KV, error) {
	var got []KV
	after := ""
	for {
		page, more, err := store.List(ctx, "", after, 1000)
		if err != nil {
			return nil, err
		}
		got = append(got, page...)
		if !more || len(page) == 0 {
			break
		}
		after = page[len(page)-1].Key
	}
	return got, nil
}

// compared leaves out the keys Diff does not compare.
func compared(kvs []KV) []KV {
	out := make([]KV, 0, len(kvs))
	for _, kv := range kvs {
		if !strings.HasPrefix(kv.Key, checkpointsPrefix) && !strings.HasPrefix(kv.Key, aggregatesPrefix) {
			out = append(out, kv)
		}
	}
	return out
}
