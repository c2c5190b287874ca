package sqlite

import (
	"slices"
	"testing"
)

// Every login writes a session and replay marks, and every index on them
// is a B-tree more in each commit, a page of its own when its key is
// random. These are the indexes the store's queries use, and no others.
func TestLoginTablesIndexes(t *testing.T) {
	s := OpenTemp(t)
	for table, want := range map[string][]string{
		"sessions": {"sessions_idle_expires_at", "sqlite_autoindex_sessions_1"},
		"replay":   {"replay_expires_at"}, // WITHOUT ROWID: the table is its key's B-tree
	} {
		rows, err := s.w.QueryContext(t.Context(), "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name", table)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			got = append(got, name)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if !slices.Equal(got, want) {
			t.Errorf("indexes on %s: %v, want %v", table, got, want)
		}
	}
}
