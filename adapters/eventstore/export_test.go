package eventstore

// ForgetAll drops what the store remembers of every aggregate, as if more
// had been used since than it keeps.
func (s *Store) ForgetAll() {
	if s.index != nil {
		s.index.last.Purge()
	}
	s.chains.m.Purge()
}
