package sdk

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Health is GET /health.
func (c *Client) Health(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodGet, "/health", nil, nil)
	return err
}

// Ready is GET /ready: nil when NATS and etcd answer.
func (c *Client) Ready(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodGet, "/ready", nil, nil)
	return err
}

// CreateDefinition registers a definition; ErrConflict if it exists.
func (c *Client) CreateDefinition(ctx context.Context, d ResourceDefinition) (ResourceDefinition, error) {
	var out ResourceDefinition
	_, err := c.do(ctx, http.MethodPost, "/resource-definitions", d, &out)
	return out, err
}

// ApplyDefinition creates or updates a definition.
func (c *Client) ApplyDefinition(ctx context.Context, d ResourceDefinition) (ResourceDefinition, error) {
	var out ResourceDefinition
	h, err := c.do(ctx, http.MethodPost, "/resource-definitions/apply", d, &out)
	out.Unchanged = h.Get("Conveyor-Unchanged") == "true"
	return out, err
}

// ReplaceDefinition replaces an existing definition.
func (c *Client) ReplaceDefinition(ctx context.Context, d ResourceDefinition) (ResourceDefinition, error) {
	var out ResourceDefinition
	_, err := c.do(ctx, http.MethodPut, "/resource-definitions/"+esc(d.Name), d, &out)
	return out, err
}

// Definition reads one definition.
func (c *Client) Definition(ctx context.Context, name string) (ResourceDefinition, error) {
	var out ResourceDefinition
	_, err := c.do(ctx, http.MethodGet, "/resource-definitions/"+esc(name), nil, &out)
	return out, err
}

// Definitions lists definitions.
func (c *Client) Definitions(ctx context.Context, p Page) (List[ResourceDefinition], error) {
	var out List[ResourceDefinition]
	_, err := c.do(ctx, http.MethodGet, "/resource-definitions"+p.query(url.Values{}), nil, &out)
	return out, err
}

// DeleteDefinition deletes a definition; ErrConflict while resources of it exist.
func (c *Client) DeleteDefinition(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/resource-definitions/"+esc(name), nil, nil)
	return err
}

// CreateResource submits a resource; the answer carries its Run ID.
func (c *Client) CreateResource(ctx context.Context, r Resource) (WriteResult, error) {
	var out WriteResult
	_, err := c.do(ctx, http.MethodPost, "/resources", r, &out)
	return out, err
}

// ReplaceResource writes a new version of a resource. expectedVersion, when
// not zero, is sent as If-Match: a newer version on the server is ErrConflict.
// The server answers with the resource as stored; the run it started comes
// in the Conveyor-Run-Id header and the version in the ETag.
func (c *Client) ReplaceResource(ctx context.Context, r Resource, expectedVersion int) (WriteResult, error) {
	var out WriteResult
	ifMatch := ""
	if expectedVersion > 0 {
		ifMatch = strconv.Quote(strconv.Itoa(expectedVersion))
	}
	h, err := c.do(ctx, http.MethodPut, "/resources/"+esc(r.Type)+"/"+esc(r.Name), r, &out.Resource, "If-Match", ifMatch)
	if err != nil {
		return out, err
	}
	out.Name, out.RunID, out.Message = out.Resource.Name, h.Get("Conveyor-Run-Id"), "resource updated"
	version := strings.Trim(strings.TrimPrefix(h.Get("ETag"), "W/"), `"`)
	if version == "" {
		version = out.Resource.Metadata["version"]
	}
	out.Version, _ = strconv.Atoi(version)
	return out, nil
}

// Resource reads one resource.
func (c *Client) Resource(ctx context.Context, typ, name string) (Resource, error) {
	var out Resource
	_, err := c.do(ctx, http.MethodGet, "/resources/"+esc(typ)+"/"+esc(name), nil, &out)
	return out, err
}

// ResourceAt reads a resource as it was at the moment at names: an RFC 3339
// time (t.Format(time.RFC3339Nano)) or a log position (the sequence an
// event of GET /events has, in decimal). The server rebuilds it from the
// event log. ErrNotFound when it did not exist then; ErrInvalid when at is
// neither form.
func (c *Client) ResourceAt(ctx context.Context, typ, name, at string) (Resource, error) {
	var out Resource
	_, err := c.do(ctx, http.MethodGet, "/resources/"+esc(typ)+"/"+esc(name)+atQuery(at), nil, &out)
	return out, err
}

// atQuery is the query string of a read at a moment ("" for now).
func atQuery(at string) string {
	if at == "" {
		return ""
	}
	return "?" + url.Values{"at": {at}}.Encode()
}

// Resources lists resources of typ (all when empty).
func (c *Client) Resources(ctx context.Context, typ string, p Page) (List[Resource], error) {
	q := url.Values{}
	if typ != "" {
		q.Set("resource", typ)
	}
	var out List[Resource]
	_, err := c.do(ctx, http.MethodGet, "/resources"+p.query(q), nil, &out)
	return out, err
}

// ResourceVersions lists the versions of a resource, oldest first.
func (c *Client) ResourceVersions(ctx context.Context, typ, name string, p Page) (List[Resource], error) {
	var out List[Resource]
	_, err := c.do(ctx, http.MethodGet, "/resources/"+esc(typ)+"/"+esc(name)+"/versions"+p.query(url.Values{}), nil, &out)
	return out, err
}

// ResourceVersion reads one version of a resource.
func (c *Client) ResourceVersion(ctx context.Context, typ, name string, version int) (Resource, error) {
	var out Resource
	_, err := c.do(ctx, http.MethodGet, "/resources/"+esc(typ)+"/"+esc(name)+"/"+strconv.Itoa(version), nil, &out)
	return out, err
}

// DeleteResource deletes a resource.
func (c *Client) DeleteResource(ctx context.Context, typ, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/resources/"+esc(typ)+"/"+esc(name), nil, nil)
	return err
}

// CreatePipeline defines a pipeline; ErrConflict if it exists. The
// answer's Warnings name steps whose drivers never connected.
func (c *Client) CreatePipeline(ctx context.Context, p Pipeline) (Pipeline, error) {
	return c.savePipeline(ctx, http.MethodPost, "/pipelines", p)
}

// ApplyPipeline creates or updates a pipeline.
func (c *Client) ApplyPipeline(ctx context.Context, p Pipeline) (Pipeline, error) {
	return c.savePipeline(ctx, http.MethodPost, "/pipelines/apply", p)
}

// ReplacePipeline replaces an existing pipeline.
func (c *Client) ReplacePipeline(ctx context.Context, p Pipeline) (Pipeline, error) {
	return c.savePipeline(ctx, http.MethodPut, "/pipelines/"+esc(p.Name), p)
}

func (c *Client) savePipeline(ctx context.Context, method, path string, p Pipeline) (Pipeline, error) {
	// The body lists every warning; the header only as many as fit in a
	// header line, and a server older than the body's list sends only it.
	var out struct {
		Pipeline
		Warnings []string `json:"warnings"`
	}
	h, err := c.do(ctx, method, path, p, &out)
	out.Pipeline.Warnings = out.Warnings
	if w := h.Get("Conveyor-Warning"); w != "" && len(out.Warnings) == 0 {
		out.Pipeline.Warnings = strings.Split(w, "; ")
	}
	out.Pipeline.Unchanged = h.Get("Conveyor-Unchanged") == "true"
	return out.Pipeline, err
}

// Drivers lists the drivers the server knows: connected instances, resource
// types, pending and in-flight work.
func (c *Client) Drivers(ctx context.Context) ([]DriverView, error) {
	var out struct {
		Items []DriverView `json:"items"`
	}
	_, err := c.do(ctx, http.MethodGet, "/drivers", nil, &out)
	return out.Items, err
}

// Pipeline reads one pipeline.
func (c *Client) Pipeline(ctx context.Context, name string) (Pipeline, error) {
	var out Pipeline
	_, err := c.do(ctx, http.MethodGet, "/pipelines/"+esc(name), nil, &out)
	return out, err
}

// Pipelines lists pipelines.
func (c *Client) Pipelines(ctx context.Context, p Page) (List[Pipeline], error) {
	var out List[Pipeline]
	_, err := c.do(ctx, http.MethodGet, "/pipelines"+p.query(url.Values{}), nil, &out)
	return out, err
}

// DeletePipeline deletes a pipeline.
func (c *Client) DeletePipeline(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/pipelines/"+esc(name), nil, nil)
	return err
}

// RunFilter narrows a list of runs; Resource is "TYPE" or "TYPE/NAME".
type RunFilter struct {
	Resource, Pipeline, Status string
	// IDPrefix, alone, keeps the runs whose ID starts with it (at least 6
	// characters): a run named by its short ID.
	IDPrefix string
	// Since and Until, when set, keep the runs started in that span.
	Since, Until time.Time
}

// Runs lists runs, newest first.
func (c *Client) Runs(ctx context.Context, f RunFilter, p Page) (List[Run], error) {
	q := url.Values{}
	for k, v := range map[string]string{"resource": f.Resource, "pipeline": f.Pipeline, "status": f.Status, "idPrefix": f.IDPrefix} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for k, t := range map[string]time.Time{"since": f.Since, "until": f.Until} {
		if !t.IsZero() {
			q.Set(k, t.Format(time.RFC3339Nano))
		}
	}
	var out List[Run]
	_, err := c.do(ctx, http.MethodGet, "/runs"+p.query(q), nil, &out)
	return out, err
}

// Run reads one run with its steps.
func (c *Client) Run(ctx context.Context, id string) (Run, error) {
	var out Run
	_, err := c.do(ctx, http.MethodGet, "/runs/"+esc(id), nil, &out)
	return out, err
}

// RunAt reads a run as it was at the moment at names, as ResourceAt does.
// ErrNotFound when it had not started then.
func (c *Client) RunAt(ctx context.Context, id, at string) (Run, error) {
	var out Run
	_, err := c.do(ctx, http.MethodGet, "/runs/"+esc(id)+atQuery(at), nil, &out)
	return out, err
}

// CancelRun cancels a running run; ErrConflict when it has ended.
func (c *Client) CancelRun(ctx context.Context, id string) (Run, error) {
	var out Run
	_, err := c.do(ctx, http.MethodPost, "/runs/"+esc(id)+"/cancel", nil, &out)
	return out, err
}

// RetryRun resumes a failed run from its failed step.
func (c *Client) RetryRun(ctx context.Context, id string) (Run, error) {
	var out Run
	_, err := c.do(ctx, http.MethodPost, "/runs/"+esc(id)+"/retry", nil, &out)
	return out, err
}

// WaitRun polls the run every interval until it has ended or ctx ends, and
// calls progress (when not nil) each time the run changed.
func (c *Client) WaitRun(ctx context.Context, id string, interval time.Duration, progress func(Run)) (Run, error) {
	var last string
	for {
		run, err := c.Run(ctx, id)
		if err != nil && !errors.Is(err, ErrNotFound) { // the run appears shortly after its resource
			return run, err
		}
		if err == nil {
			if progress != nil {
				if sig := runSignature(run); sig != last {
					last = sig
					progress(run)
				}
			}
			if run.Ended() {
				return run, nil
			}
		}
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(interval):
		}
	}
}

func runSignature(r Run) string {
	sig := r.Status
	for _, s := range r.Steps {
		sig += "|" + s.Status + strconv.Itoa(s.Attempt)
	}
	return sig
}
