package sqlite

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// errLockHeld: another holder (another process, or another Store on the same
// file) has the lock file.
var errLockHeld = errors.New("held by another process")

// lockFilePath is the file beside the database whose lock stands for the
// named lock: "<database>-lock-<name>", next to SQLite's own -wal and -shm.
// A name that is not plainly a file name is hashed, so that no name reaches
// outside the database's directory.
func lockFilePath(dbPath, name string) string {
	if !plainLockName(name) {
		sum := sha256.Sum256([]byte(name))
		name = hex.EncodeToString(sum[:8])
	}
	return dbPath + "-lock-" + name
}

func plainLockName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
