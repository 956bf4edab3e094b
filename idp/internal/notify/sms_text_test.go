package notify

import (
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

func TestCodeSMS(t *testing.T) {
	got, err := CodeSMS(storage.CodeActivation, "482913", 10*time.Minute, "https://id.example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := "Your CliniConnects activation code: 482913\nIt expires in 10 minutes. Never share it: CliniConnects staff will never ask for it.\n\n@id.example.com #482913"
	if got != want {
		t.Fatalf("activation SMS:\n%s\nwant\n%s", got, want)
	}
	got, err = CodeSMS(storage.CodePhoneChange, "000417", 10*time.Minute, "http://localhost:8080")
	if err != nil || got != "Your CliniConnects code to confirm this number: 000417\nIt expires in 10 minutes. Never share it: CliniConnects staff will never ask for it.\n\n@localhost:8080 #000417" {
		t.Fatalf("phone change SMS: %q, %v", got, err)
	}
	if _, err := CodeSMS("other", "1", time.Minute, "https://id.example.com"); err == nil {
		t.Fatal("an unknown purpose got a text")
	}
	if len(want) > 160 {
		t.Logf("the activation SMS is %d characters (two segments)", len(want))
	}
}
