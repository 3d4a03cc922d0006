package api

import (
	"context"

	"github.com/conveyor/conveyor/projections"
)

// Queries is the read side the API serves reads from.
type Queries interface {
	Definition(ctx context.Context, name string) (projections.DefinitionView, error)
	Definitions(ctx context.Context, p projections.Page) ([]projections.DefinitionView, string, error)
	Resource(ctx context.Context, typ, name string) (projections.ResourceView, error)
	Resources(ctx context.Context, typ string, p projections.Page) ([]projections.ResourceView, string, error)
	ResourceVersions(ctx context.Context, typ, name string, p projections.Page) ([]projections.ResourceView, string, error)
	ResourceVersion(ctx context.Context, typ, name string, version int) (projections.ResourceView, error)
	Pipeline(ctx context.Context, name string) (projections.PipelineView, error)
	Pipelines(ctx context.Context, p projections.Page) ([]projections.PipelineView, string, error)
	Run(ctx context.Context, id string) (projections.RunView, error)
	Runs(ctx context.Context, f projections.RunFilter, p projections.Page) ([]projections.RunView, string, error)
}

// Logs reads stored log lines of runs.
type Logs interface {
	RunLogs(ctx context.Context, q projections.LogQuery) ([]projections.LogLine, error)
}

// Check is a readiness probe of one dependency; nil means reachable.
type Check func(ctx context.Context) error
