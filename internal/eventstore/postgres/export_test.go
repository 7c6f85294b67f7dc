package postgres

// Waiting reports how many appends wait for a committer.
func Waiting(s *Store) int64 { return s.waiting.Load() }
