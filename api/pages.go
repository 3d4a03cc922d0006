package api

import "github.com/conveyor/conveyor/projections"

// PageInput is the pagination of every list. It is exported because huma
// reads the query parameters of embedded structs only when they are: an
// unexported one was skipped, and every list ignored limit and continue.
type PageInput struct {
	Limit    int    `query:"limit" minimum:"0" maximum:"1000" doc:"items per page (default 100)"`
	Continue string `query:"continue" doc:"token from the previous page's continue field"`
}

func (p PageInput) page() projections.Page {
	return projections.Page{Limit: p.Limit, Continue: p.Continue}
}

// list is the body of every list answer.
type list[T any] struct {
	Items    []T    `json:"items"`
	Continue string `json:"continue,omitempty" doc:"pass as ?continue= to get the next page; absent on the last page"`
}

type listOutput[T any] struct {
	Body list[T]
}

// mapList converts views to their wire form.
func mapList[V, T any](views []V, next string, convert func(V) T) *listOutput[T] {
	items := make([]T, len(views))
	for i, v := range views {
		items[i] = convert(v)
	}
	return &listOutput[T]{Body: list[T]{Items: items, Continue: next}}
}
