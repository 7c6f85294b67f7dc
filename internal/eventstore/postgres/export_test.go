package postgres

// Waiting reports how many appends wait for a committer.
func Waiting(s *Store) int64 { return s.waiting.Load() }

// Fallbacks reports how many groups failed before their commit and handed
// their appends back to be committed alone.
func Fallbacks(s *Store) int64 { return s.fallbacks.Load() }
