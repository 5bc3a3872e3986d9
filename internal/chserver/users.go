package chserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// defaultUser is the default user as clickhouse-local has it, allowed to
// manage access, and the default profile and quota it names.
var defaultUser = map[string]string{
	"<profiles>": "<profiles>\n    <default/>",
	"<users>": `<users>
    <default>
      <password></password>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <access_management>1</access_management>
    </default>`,
	"<quotas>": "<quotas>\n    <default/>",
}

// mainConfig points the server at users.xml beside it. Seen with chDB
// 26.7: users given in the config file itself are not loaded, a users
// file named by user_directories is.
const mainConfig = `<clickhouse>
  <user_directories><users_xml><path>users.xml</path></users_xml></user_directories>
</clickhouse>
`

// usersFile is the users file of a server started with users (a
// <clickhouse> document with profiles, roles, users and quotas sections):
// users with the default user spliced in.
func usersFile(users []byte) ([]byte, error) {
	out := string(users)
	for section, with := range defaultUser {
		if strings.Count(out, section) != 1 {
			return nil, fmt.Errorf("chserver: the users file must have one %s section", section)
		}
		out = strings.Replace(out, section, with, 1)
	}
	return []byte(out), nil
}

// writeUsers writes the config file that carries users into dir, or
// removes one an earlier start wrote when users is nil.
func writeUsers(dir string, users []byte) error {
	cfg, usersPath := filepath.Join(dir, "config.xml"), filepath.Join(dir, "users.xml")
	if users == nil {
		os.Remove(usersPath)
		if err := os.Remove(cfg); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	file, err := usersFile(users)
	if err != nil {
		return err
	}
	if err := os.WriteFile(usersPath, file, 0o600); err != nil {
		return err
	}
	return os.WriteFile(cfg, []byte(mainConfig), 0o600)
}
