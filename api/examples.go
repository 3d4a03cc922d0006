package api

import (
	"encoding/json"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// The examples of the OpenAPI document: one whole body per schema, so that
// a reader (and a generated client's docs) sees an answer as the server
// gives it, not only each field on its own. A test validates each against
// its schema and fails on a JSON body without one.
const (
	exampleRunID      = `"8f14e45f-ceea-4e7a-9c2b-7f1d0c5b2a61"`
	exampleDefinition = `{"id":"0b9c2f64-4a47-4f3e-8f53-3f1f0cf3c7de","name":"build","description":"a commit to build",
		"version":"1.0.0","schema":{"type":"object","required":["repo","ref"],"properties":{"repo":{"type":"string"},"ref":{"type":"string"}}}}`
	examplePipeline = `{"name":"ci","description":"Compile, then upload","version":"1","resource":"build",
		"steps":[{"id":"compile","driver":"compiler","runsOn":["linux"]},{"id":"upload","driver":"uploader","timeout":"10m",
		"retry":{"attempts":3,"backoff":"10s"}}],"metadata":{"registry":"registry.example"}}`
	exampleResource = `{"id":"6c2d5f0e-2f0b-4a59-9a8e-1d2b8f3e4c11","name":"app-1","resource":"build","pipeline":"ci",
		"metadata":{"version":"2","driverresults.compiler":"{\"success\":true,\"message\":\"compiled\",\"driver\":\"compiler\"}"},
		"spec":{"repo":"https://example.com/app.git","ref":"abc123"}}`
	exampleRun = `{"id":` + exampleRunID + `,"status":"running","trigger":"update","pipeline":` + examplePipeline + `,
		"resource":` + exampleResource + `,"resourceEventVersion":2,"current":1,"startedAt":"2026-11-24T09:00:00Z",
		"steps":[{"id":"compile","driver":"compiler","status":"succeeded","attempt":1,"dispatchedAt":"2026-11-24T09:00:00Z",
		"finishedAt":"2026-11-24T09:00:41Z","result":{"success":true,"message":"compiled","driver":"compiler","data":{"artifact":"app-1-abc123.tar.gz"}}},
		{"id":"upload","driver":"uploader","status":"dispatched","attempt":1,"dispatchedAt":"2026-11-24T09:00:41Z","deadline":"2026-11-24T09:10:41Z"}],
		"statusReports":[{"status":"pending","message":"the git host refused the status: POST https://api.github.com/repos/acme/app/statuses/1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5: 404 Not Found: {\"message\":\"Not Found\"}",
		"attempts":1,"trigger":"app-push","at":"2026-11-24T09:00:01Z"}]}`
	exampleEvent = `{"id":"2f1e0d3c-8b7a-4c5d-9e6f-0a1b2c3d4e5f","type":"StepDispatched.v1","aggregate":"run","aggregateId":` + exampleRunID + `,
		"aggregateVersion":2,"time":"2026-11-24T09:00:00Z","correlationId":` + exampleRunID + `,"causationId":"5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
		"sequence":1042,"actor":{"kind":"server","name":"engine"},"step":"compile","driver":"compiler","attempt":1,"event":"update"}`
	exampleLogLine = `{"sequence":3,"runid":` + exampleRunID + `,"driver":"compiler","pipeline":"ci","step":"compile",
		"timestamp":"1795510841","time":"2026-11-24T09:00:41.123456789Z","message":"built app-1-abc123.tar.gz"}`
	exampleDriver = `{"name":"compiler","resources":["build"],"connected":true,"pending":0,"inFlight":1,
		"instances":[{"id":"K7Q2M9XW4RTA","host":"builder-1","labels":["linux"],"version":"v0.4.0","since":"2026-11-24T08:00:00Z","lastSeen":"2026-11-24T09:00:40Z"}]}`
	exampleToken   = `{"name":"ci","id":"3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d","role":"operator"}`
	exampleTrigger = `{"name":"app-push","version":"1","source":"github","events":["push"],"secret":"github-webhook",
		"when":"body.ref == \"refs/heads/main\"","pipeline":"ci","resource":{"type":"build",
		"name":"\"app-\" + body.after.substring(0, 12)","spec":{"repo":"body.repository.clone_url","ref":"body.after"}}}`
	// exampleDelivery is a GitHub push, cut down.
	exampleDelivery = `{"ref":"refs/heads/main","after":"1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5",
		"repository":{"full_name":"acme/app","clone_url":"https://github.com/acme/app.git"}}`
)

// examples are the example bodies by schema name.
var examples = map[string]string{
	"ResourceDefinition":     exampleDefinition,
	"ListResourceDefinition": `{"items":[` + exampleDefinition + `],"continue":"YnVpbGQ"}`,
	"DefinitionBody":         `{"name":"build","version":"1.0.0","description":"a commit to build","schema":{"type":"object","required":["repo","ref"],"properties":{"repo":{"type":"string"},"ref":{"type":"string"}}}}`,
	"DefinitionReplacement":  `{"version":"1.1.0","schema":{"type":"object","required":["repo"],"properties":{"repo":{"type":"string"},"ref":{"type":"string"}}}}`,
	"Pipeline":               examplePipeline,
	"ListPipeline":           `{"items":[` + examplePipeline + `]}`,
	"SavedPipeline": strings.TrimSuffix(examplePipeline, "}") +
		`,"warnings":["step upload: driver \"uploader\" has never connected (its runs wait until it does)"]}`,
	"PipelineBody": `{"name":"ci","resource":"build","description":"Compile, then upload",
		"steps":[{"id":"compile","driver":"compiler","runsOn":["linux"]},{"id":"upload","driver":"uploader","needs":["compile"],"timeout":"10m"}]}`,
	"PipelineReplacement":  `{"resource":"build","steps":[{"id":"compile","driver":"compiler"},{"id":"gate","type":"approval"},{"id":"upload","driver":"uploader"}]}`,
	"Resource":             exampleResource,
	"ListResource":         `{"items":[` + exampleResource + `],"continue":"YXBwLTE"}`,
	"ResourceBody":         `{"name":"app-1","resource":"build","pipeline":"ci","spec":{"repo":"https://example.com/app.git","ref":"abc123"}}`,
	"ResourceReplacement":  `{"pipeline":"ci","version":1,"spec":{"repo":"https://example.com/app.git","ref":"def456"}}`,
	"WriteResult":          `{"name":"app-1","runid":` + exampleRunID + `,"version":2,"message":"resource updated; run started","resource":` + exampleResource + `}`,
	"Run":                  exampleRun,
	"ListRun":              `{"items":[` + exampleRun + `]}`,
	"DecideStepInputBody":  `{"comment":"staging looks good"}`,
	"TraceOutputBody":      `{"runid":` + exampleRunID + `,"cause":{"id":"5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f","type":"ResourceUpdated.v1","aggregate":"resource","aggregateId":"build/app-1","aggregateVersion":2,"time":"2026-11-24T09:00:00Z","correlationId":` + exampleRunID + `},"events":[` + exampleEvent + `]}`,
	"EventsPage":           `{"items":[` + exampleEvent + `],"next":1042,"continue":"1042"}`,
	"HistoryOutputBody":    `{"items":[{"sequence":1041,"eventId":"5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f","type":"ResourceUpdated.v1","time":"2026-11-24T09:00:00Z","aggregateVersion":2,"version":2,"runid":` + exampleRunID + `,"pipeline":"ci","spec":{"repo":"https://example.com/app.git","ref":"abc123"}}]}`,
	"LogsOutputBody":       `{"items":[` + exampleLogLine + `],"next":4}`,
	"WriteLogInputBody":    `{"runid":` + exampleRunID + `,"driver":"compiler","pipeline":"ci","timestamp":"1795510841","message":"built app-1-abc123.tar.gz"}`,
	"DriverMessage":        `{"event":"notice","payload":"{\"text\":\"maintenance at 18:00\"}"}`,
	"BroadcastOutputBody":  `{"message":"message published"}`,
	"HealthOutputBody":     `{"status":"healthy","time":1795510800}`,
	"Readiness":            `{"status":"ready","checks":{"nats":"ok","etcd":"ok","projector":"ok"}}`,
	"ListParkedEvent":      `{"items":[{"id":1,"consumer":"projector","sequence":1042,"type":"ResourceCreated.v1","aggregate":"resource","aggregateId":"build/app-1","error":"read model store: value too large","parkedAt":"2026-11-24T09:00:00Z"}]}`,
	"TokenIssueInputBody":  `{"name":"ci","role":"operator"}`,
	"TokenIssued":          `{"name":"ci","id":"3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d","role":"operator","token":"cvy_EXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE"}`,
	"TokenView":            exampleToken,
	"TokenListOutputBody":  `{"items":[` + exampleToken + `]}`,
	"DriverView":           exampleDriver,
	"DriversOutputBody":    `{"items":[` + exampleDriver + `]}`,
	"SecretInputBody":      `{"value":"s3cr3t"}`,
	"SecretSetOutputBody":  `{"name":"registry-password","message":"secret set"}`,
	"SecretListOutputBody": `{"items":[{"name":"registry-password","changedAt":"2026-11-24T09:00:00Z"}]}`,
	"Trigger":              exampleTrigger,
	"ListTrigger":          `{"items":[` + exampleTrigger + `]}`,
	"TriggerBody":          strings.Replace(exampleTrigger, `"name":"app-push","version":"1",`, "", 1),
	"HookAnswer":           `{"outcome":"fired","event":"push","delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958","resource":"build/app-1a2b3c4d5e6f","version":1,"runid":` + exampleRunID + `}`,
	"TriggerDeliveries": `{"items":[{"trigger":"app-push","event":"pull_request","delivery":"8e4f2a10-cc79-11e3-8c2a-4c9367dc0958","resource":"",
		"time":"2026-11-24T09:05:00Z","status":202,"reason":"trigger \"app-push\" does not take \"pull_request\" events (it takes [push])","kept":"memory"},
		{"trigger":"app-push","event":"push","delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958",
		"commit":"1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5","ref":"refs/heads/main","resource":"build/app-1a2b3c4d5e6f","runid":` + exampleRunID + `,
		"time":"2026-11-24T09:00:00Z","status":201,"kept":"log"}]}`,
	"TriggerTryBody": `{"event":"push","headers":{"X-GitHub-Event":"push"},"payload":` + exampleDelivery + `}`,
	"TriggerTryAnswer": `{"outcome":"would fire","event":"push","resource":{"id":"","name":"app-1a2b3c4d5e6f","resource":"build","pipeline":"ci",
		"metadata":{},"spec":{"repo":"https://github.com/acme/app.git","ref":"1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5"}}}`,
	"CredentialsOutputBody": `{"name":"compiler","token":"cvy_EXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE","natsUrl":"nats://cvy_EXAMPLE@127.0.0.1:4222"}`,
}

// addExamples sets, on every JSON request and answer body of the document,
// the example of its schema.
func addExamples(doc *huma.OpenAPI) {
	for _, item := range doc.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			if op.RequestBody != nil {
				setExamples(op.RequestBody.Content)
			}
			for code, resp := range op.Responses {
				if strings.HasPrefix(code, "2") {
					setExamples(resp.Content)
				}
			}
		}
	}
}

func setExamples(content map[string]*huma.MediaType) {
	for typ, mt := range content {
		if !strings.Contains(typ, "json") || mt.Schema == nil || mt.Example != nil {
			continue
		}
		name := strings.TrimPrefix(mt.Schema.Ref, "#/components/schemas/")
		if raw, ok := examples[name]; ok {
			var v any
			if err := json.Unmarshal([]byte(raw), &v); err != nil {
				panic("api: the example of " + name + " is not JSON: " + err.Error())
			}
			mt.Example = v
		}
	}
}
