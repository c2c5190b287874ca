package ui

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// Every text exists in Finnish, Swedish and English.
func TestMessagesComplete(t *testing.T) {
	for key, m := range messages {
		for i, s := range m {
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: no text in %s", key, langs[i])
			}
		}
	}
	for _, m := range apiMessages {
		for i, s := range m.text {
			if s == "" {
				t.Errorf("API message %q: no text in %s", m.prefix, langs[i])
			}
		}
	}
	if _, err := translate("fi", "no.such.key"); err == nil {
		t.Error("an unknown key is no error")
	}
}

// Every key a template names literally has a text.
func TestTemplateKeysExist(t *testing.T) {
	re := regexp.MustCompile(`\.TF? "([a-zA-Z0-9._-]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templateFS, path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			if _, ok := messages[m[1]]; !ok {
				t.Errorf("%s: no text %q", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTranslateMessage(t *testing.T) {
	for _, c := range []struct{ lang, in, want string }{
		{"fi", "required", "Pakollinen tieto"},
		{"sv", "must use https in production", "I produktion måste adressen vara https"},
		{"en", "unknown school code 99999", "Unknown school code (99999)"},
		{"fi", "required for type wilma", "Pakollinen tälle tyypille (wilma)"},
		{"fi", "something new", "something new"},
	} {
		if got := translateMessage(c.lang, c.in); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.lang, c.in, got, c.want)
		}
	}
}
