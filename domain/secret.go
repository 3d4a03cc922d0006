package domain

import "fmt"

// Secrets are values a pipeline grants to named steps (an API key, a
// registry password). The log records that a secret changed, never its
// value: the value lives encrypted outside the log (see the secrets
// adapter), and reaches a driver only while it runs a step granted it.

// AggregateSecret is the aggregate kind of secrets; a secret's stream is
// secret/{name}.
const AggregateSecret = "secret"

// MaxSecretBytes bounds a secret's value.
const MaxSecretBytes = 64 << 10

// Secret events.
const (
	TypeSecretChanged = "SecretChanged.v1"
	TypeSecretDeleted = "SecretDeleted.v1"
)

// SecretChanged: a secret was set or given a new value. It holds no value.
type SecretChanged struct {
	Meta
	Name string `json:"name"`
}

// SecretDeleted: a secret was removed.
type SecretDeleted struct {
	Meta
	Name string `json:"name"`
}

func init() {
	register(TypeSecretChanged, func() Event { return &SecretChanged{} })
	register(TypeSecretDeleted, func() Event { return &SecretDeleted{} })
}

// SecretAggregate is a secret's history of changes.
type SecretAggregate struct {
	name    string
	exists  bool
	version uint64
	changes []Event
}

// Version is the aggregate version: the number of events applied.
func (a *SecretAggregate) Version() uint64 { return a.version }

// Exists reports whether the secret is set.
func (a *SecretAggregate) Exists() bool { return a.exists }

// Changes are the events recorded since the aggregate was loaded.
func (a *SecretAggregate) Changes() []Event { return a.changes }

// Apply folds one event into the aggregate.
func (a *SecretAggregate) Apply(e Event) {
	switch e := e.(type) {
	case *SecretChanged:
		a.name, a.exists = e.Name, true
	case *SecretDeleted:
		a.exists = false
	}
	a.version = e.EventMeta().Version
}

func (a *SecretAggregate) record(e Event) {
	a.Apply(e)
	a.changes = append(a.changes, e)
}

// Set records that the secret name got a value of size bytes.
func (a *SecretAggregate) Set(name string, size int, c Cause) error {
	if err := CheckName("name", name); err != nil {
		return err
	}
	if size == 0 {
		return Invalid("value", "must not be empty")
	}
	if size > MaxSecretBytes {
		return Invalid("value", fmt.Sprintf("is %d bytes; a secret holds at most %d", size, MaxSecretBytes))
	}
	a.record(&SecretChanged{Meta: c.meta(TypeSecretChanged, AggregateSecret, name, a.version+1), Name: name})
	return nil
}

// Delete records that the secret is gone.
func (a *SecretAggregate) Delete(name string, c Cause) error {
	if !a.exists {
		return notFound("secret", name)
	}
	a.record(&SecretDeleted{Meta: c.meta(TypeSecretDeleted, AggregateSecret, name, a.version+1), Name: name})
	return nil
}

// GrantedSecrets names the secrets step of the run is granted.
func (r Run) GrantedSecrets(step string) []string {
	i := r.stepIndex(step)
	if i < 0 || len(r.Pipeline.Steps) != len(r.Steps) {
		return nil
	}
	return r.Pipeline.Steps[i].Secrets
}

// checkSecrets checks the secret names a pipeline's steps are granted.
func checkSecrets(p Pipeline) ValidationErrors {
	var problems ValidationErrors
	for i, s := range p.Steps {
		seen := map[string]bool{}
		for j, name := range s.Secrets {
			field := fmt.Sprintf("steps[%d].secrets[%d]", i, j)
			if err := CheckName(field, name); err != nil {
				problems = append(problems, err.(*ValidationError))
			} else if seen[name] {
				problems = append(problems, Invalid(field, fmt.Sprintf("grants secret %q twice", name)))
			}
			seen[name] = true
		}
		if s.Type == StepTypeApproval && len(s.Secrets) > 0 {
			problems = append(problems, Invalid(fmt.Sprintf("steps[%d].secrets", i), "must be absent: a step of type approval runs no driver"))
		}
	}
	return problems
}
