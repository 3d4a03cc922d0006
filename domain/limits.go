package domain

import "fmt"

// The largest parts an event may carry, so that everything accepted can be
// stored in the log and projected: a resource's record holds its spec, its
// metadata and the results of its drivers, and the projection of one event
// writes it up to three times (the resource, its version and its run) in one
// etcd transaction, which etcd caps at 1.5 MiB by default. docs/api.md
// explains the numbers.
const (
	MaxSpecBytes          = 256 << 10 // a resource's spec, as JSON
	MaxMetadataBytes      = 32 << 10  // a resource's own metadata: keys and values together
	MaxResultDataBytes    = 64 << 10  // a driver result's data, as JSON
	MaxResultMessageBytes = 4 << 10   // a driver result's message
)

// checkSize is a validation problem when n bytes exceed limit.
func checkSize(field string, n, limit int) error {
	if n <= limit {
		return nil
	}
	return Invalid(field, fmt.Sprintf("is %d bytes; at most %d bytes are accepted", n, limit))
}

// metadataBytes counts the bytes of metadata's keys and values.
func metadataBytes(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// CheckResultSize reports a driver result too large to record.
func CheckResultSize(r DriverResult) error {
	var problems ValidationErrors
	for _, err := range []error{
		checkSize("driverresult.data", len(r.Data), MaxResultDataBytes),
		checkSize("driverresult.message", len(r.Message), MaxResultMessageBytes),
	} {
		if err != nil {
			problems = append(problems, err.(*ValidationError))
		}
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}
