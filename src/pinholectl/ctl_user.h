/* ctl_user: `pinholectl user add USER [--realm R] [--file F]`, the users
 * file of proxyd's auth (docs/operations.md). */
#ifndef PINHOLECTL_CTL_USER_H
#define PINHOLECTL_CTL_USER_H

#define CTL_USER_DEFAULT_FILE "/etc/pinhole/users"
#define CTL_USER_DEFAULT_REALM "pinhole.test"

/* argv[0] is "user". Reads the password from stdin (one line), writes the
 * file anew with USER's lines in REALM replaced by one per algorithm.
 * Returns the exit status: 0, 1 (error, said on stderr), 2 (usage). */
int ctl_user_main(int argc, char **argv);

#endif
