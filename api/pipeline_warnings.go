package api

import (
	"strconv"
	"strings"

	"github.com/conveyor/conveyor/domain"
)

// savedPipeline is the answer to a save: the pipeline as stored and, when
// steps name drivers never seen, every warning. The header
// Conveyor-Warning carries them too, summarised when long.
type savedPipeline struct {
	domain.Pipeline
	Warnings []string `json:"warnings,omitempty" doc:"one per step whose driver never connected (most likely a typo): the pipeline is stored, but its runs will wait for that driver"`
}

type savedPipelineOutput struct {
	Status  int
	Warning string `header:"Conveyor-Warning" doc:"set when a step names a driver that never connected (most likely a typo): the warnings joined by '; ', or the first of them and how many more when that would be long; all of them are in the body's warnings"`
	// Unchanged is "true" when the save changed nothing: no event, no new
	// version.
	Unchanged string `header:"Conveyor-Unchanged" doc:"true when the pipeline was already so: nothing was written, the version stays"`
	Body      savedPipeline
}

// maxWarningHeader bounds the Conveyor-Warning header, in bytes. Clients
// hold a header line in a fixed buffer: curl fails with "Out of memory" on
// one of 77 KB, Python's http.client refuses one over 64 KiB, so a pipeline
// of 10,000 steps answered a stored write that its client saw fail.
const maxWarningHeader = 1024

// warningHeader joins warnings with "; ", as clients split them. Past
// maxWarningHeader it lists those that fit and ends with how many more are
// in the body.
func warningHeader(warnings []string) string {
	joined := strings.Join(warnings, "; ")
	if len(joined) <= maxWarningHeader {
		return joined
	}
	var b strings.Builder
	listed := 0
	for _, w := range warnings {
		// The count that ends the line takes at most 100 bytes.
		if b.Len()+len(w)+2 > maxWarningHeader-100 {
			break
		}
		b.WriteString(w)
		b.WriteString("; ")
		listed++
	}
	b.WriteString("and " + strconv.Itoa(len(warnings)-listed) + ` more steps name drivers never connected: see "warnings" in the body`)
	return b.String()
}
