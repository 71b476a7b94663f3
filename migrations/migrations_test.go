package migrations

import "testing"

func TestMigrationsAreNumberedFromOne(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i, m := range all {
		if m.Version != i+1 {
			t.Errorf("migration %s has version %d, want %d: versions must be 1, 2, 3… without gaps", m.Name, m.Version, i+1)
		}
		if m.SQL == "" {
			t.Errorf("migration %s is empty", m.Name)
		}
	}
}
