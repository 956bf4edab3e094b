package testenv

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// TestPostgresCluster: the throwaway cluster answers, is down after Stop,
// answers again after Start and after Restart.
func TestPostgresCluster(t *testing.T) {
	c := NewPostgresCluster(t)
	db, err := sql.Open("pgx", c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return db.PingContext(ctx)
	}
	if err := ping(); err != nil {
		t.Fatalf("after start: %v", err)
	}
	c.Stop(t)
	if err := ping(); err == nil {
		t.Fatal("after stop: the server still answers")
	}
	c.Start(t)
	if err := ping(); err != nil {
		t.Fatalf("after start again: %v", err)
	}
	c.Restart(t)
	if err := ping(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
