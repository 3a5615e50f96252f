// Package sample is a test package for testreport's own tests: one test
// of each outcome. TestFail fails only when TESTREPORT_SAMPLE_FAIL=1.
package sample

import (
	"os"
	"testing"
)

func TestPass(t *testing.T) { t.Log("passing quietly") }

func TestSkip(t *testing.T) { t.Skip("needs the moon") }

func TestSub(t *testing.T) {
	t.Run("inner", func(t *testing.T) { t.Skipf("inner reason %d", 1) })
	t.Run("fine", func(t *testing.T) {})
}

func TestFail(t *testing.T) {
	if os.Getenv("TESTREPORT_SAMPLE_FAIL") == "1" {
		t.Error("failing on purpose")
	}
}
