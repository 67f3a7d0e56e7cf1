// sh: the shell.
//
// Usage: sh [script]
// Reads command lines from the script, or from fd 0, and runs them; exits
// at end of input with the status of the last command. When fd 0 is a
// device (the console), a prompt "$ " goes to fd 2 before each line; from
// a file or a pipe (sh < script) there is none, so the output of a script
// is only what its commands print.
//
// Syntax, from tightest to loosest binding:
//   word ...              a command: "/name" is tried first, then "name"
//                         relative to the current directory; a name with
//                         a '/' is used as it is
//   < f   > f   >> f      redirect stdin, stdout (truncate), stdout (append);
//   2> f  2>&1            a single digit before < or > names the fd
//   ( list )              run list in a sub-shell (redirections allowed)
//   a | b | c             pipeline
//   a ; b   a & b         sequence; '&' runs a in the background
//   'x y' "x y" \c        quoting; # starts a comment
// Builtins: cd [dir], exit [status].
//
// How a line runs: it is parsed into a tree of struct cmd (allocated in
// an arena that is reset for each line). Lists run in the shell itself,
// so that cd and exit take effect; every other command runs in a forked
// child (run_child), which for a pipeline forks one child per side and
// waits for both. A foreground command is waited for by pid; children of
// background commands are reaped by whichever wait() finds them.
#include "user/user.h"
#include "kernel/param.h"

#define MAXARGS MAXARG
#define LINEMAX 1024
#define ARENASIZE 32768

enum cmdtype { C_EXEC, C_PIPE, C_LIST, C_SUB };

struct redir {
	int r_fd;             // the descriptor redirected (0, 1, 2, ...)
	int r_flags;          // open flags; -1 for a dup (2>&1)
	int r_dupfd;          // source for a dup
	char *r_file;         // file to open
	struct redir *r_next;
};

struct cmd {
	enum cmdtype c_type;
	int c_argc;                     // C_EXEC
	char *c_argv[MAXARGS + 1];      // C_EXEC, NULL-terminated
	struct redir *c_redirs;         // C_EXEC and C_SUB, in order
	struct cmd *c_body;             // C_SUB
	struct cmd *c_left, *c_right;   // C_PIPE, C_LIST (c_right may be NULL)
	bool c_bg;                      // C_LIST: run c_left in the background
};

// ---- arena: everything parsed from one line ------------------------------

static char arena[ARENASIZE];
static size_t arena_used;

static void *
arena_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~15UL;
	if (arena_used + n > sizeof(arena))
		return NULL;
	p = arena + arena_used;
	arena_used += n;
	memset(p, 0, n);
	return p;
}

// ---- lexer ---------------------------------------------------------------

enum tok { TK_END, TK_WORD, TK_PIPE, TK_SEMI, TK_AMP, TK_LT, TK_GT, TK_APPEND,
	   TK_DUP, TK_LPAREN, TK_RPAREN, TK_ERR };

struct lexer {
	char *lx_p;          // next input character
	enum tok lx_tok;     // current token
	char *lx_word;       // TK_WORD: its text (in the arena)
	int lx_fd;           // TK_LT, TK_GT, TK_APPEND, TK_DUP: the fd, or -1
	int lx_dupfd;        // TK_DUP: the source fd
	const char *lx_err;  // TK_ERR: what went wrong
};

static bool
is_special(char c)
{
	return c != '\0' && strchr("|;&<>()", c) != NULL;
}

// Read a word with quotes and backslashes into the arena.
static void
lex_word(struct lexer *lx)
{
	char *out = arena_alloc(strlen(lx->lx_p) + 1), *o = out;
	char *p = lx->lx_p;

	if (out == NULL) {
		lx->lx_tok = TK_ERR;
		lx->lx_err = "line too complex";
		return;
	}
	while (*p != '\0' && !isspace(*p) && !is_special(*p)) {
		if (*p == '\\' && p[1] != '\0') {
			*o++ = p[1];
			p += 2;
		} else if (*p == '\'' || *p == '"') {
			char q = *p++;
			while (*p != '\0' && *p != q) {
				if (q == '"' && *p == '\\' &&
				    (p[1] == '"' || p[1] == '\\'))
					p++;
				*o++ = *p++;
			}
			if (*p != q) {
				lx->lx_tok = TK_ERR;
				lx->lx_err = "unterminated quote";
				return;
			}
			p++;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	lx->lx_p = p;
	lx->lx_tok = TK_WORD;
	lx->lx_word = out;
}

// Lex a redirection operator at lx->lx_p, with fd (or -1) before it.
static void
lex_redir(struct lexer *lx, int fd)
{
	char c = *lx->lx_p++;

	lx->lx_fd = fd;
	if (c == '<') {
		lx->lx_tok = TK_LT;
	} else if (*lx->lx_p == '>') {
		lx->lx_p++;
		lx->lx_tok = TK_APPEND;
	} else if (*lx->lx_p == '&' && isdigit(lx->lx_p[1])) {
		lx->lx_dupfd = lx->lx_p[1] - '0';
		lx->lx_p += 2;
		lx->lx_tok = TK_DUP;
	} else {
		lx->lx_tok = TK_GT;
	}
}

static void
lex_next(struct lexer *lx)
{
	while (isspace(*lx->lx_p))
		lx->lx_p++;
	switch (*lx->lx_p) {
	case '\0':
	case '#':
		lx->lx_tok = TK_END;
		return;
	case '|': lx->lx_tok = TK_PIPE; lx->lx_p++; return;
	case ';': lx->lx_tok = TK_SEMI; lx->lx_p++; return;
	case '&': lx->lx_tok = TK_AMP; lx->lx_p++; return;
	case '(': lx->lx_tok = TK_LPAREN; lx->lx_p++; return;
	case ')': lx->lx_tok = TK_RPAREN; lx->lx_p++; return;
	case '<':
	case '>':
		lex_redir(lx, -1);
		return;
	}
	// "2>file": a lone digit right before < or > is the fd to redirect.
	if (isdigit(lx->lx_p[0]) && (lx->lx_p[1] == '<' || lx->lx_p[1] == '>')) {
		int fd = *lx->lx_p++ - '0';
		lex_redir(lx, fd);
		return;
	}
	lex_word(lx);
}

// ---- parser ----------------------------------------------------------------
// list     := pipeline { (';' | '&') [pipeline] }
// pipeline := command { '|' command }
// command  := '(' list ')' { redir } | { word | redir }
// Each function returns NULL after printing a syntax error.

static bool parse_failed;

static struct cmd *
syntax_error(struct lexer *lx)
{
	static const char *const names[] = {
		[TK_END] = "newline", [TK_PIPE] = "|", [TK_SEMI] = ";",
		[TK_AMP] = "&", [TK_LT] = "<", [TK_GT] = ">", [TK_APPEND] = ">>",
		[TK_DUP] = ">&", [TK_LPAREN] = "(", [TK_RPAREN] = ")",
	};

	if (!parse_failed) {
		if (lx->lx_tok == TK_ERR)
			fprintf(2, "sh: %s\n", lx->lx_err);
		else if (lx->lx_tok == TK_WORD)
			fprintf(2, "sh: syntax error near '%s'\n", lx->lx_word);
		else
			fprintf(2, "sh: syntax error near '%s'\n", names[lx->lx_tok]);
	}
	parse_failed = true;
	return NULL;
}

static struct cmd *
new_cmd(struct lexer *lx, enum cmdtype type)
{
	struct cmd *c = arena_alloc(sizeof(*c));

	if (c == NULL) {
		lx->lx_tok = TK_ERR;
		lx->lx_err = "line too complex";
		return syntax_error(lx);
	}
	c->c_type = type;
	return c;
}

// Parse one redirection (current token is its operator) and append it
// to c's list. False on error.
static bool
parse_redir(struct lexer *lx, struct cmd *c)
{
	struct redir *r = arena_alloc(sizeof(*r)), **tail;
	enum tok op = lx->lx_tok;

	if (r == NULL)
		return false;
	r->r_fd = lx->lx_fd >= 0 ? lx->lx_fd : (op == TK_LT ? 0 : 1);
	if (op == TK_DUP) {
		r->r_flags = -1;
		r->r_dupfd = lx->lx_dupfd;
	} else {
		if (op == TK_LT)
			r->r_flags = O_RDONLY;
		else if (op == TK_GT)
			r->r_flags = O_WRONLY | O_CREAT | O_TRUNC;
		else
			r->r_flags = O_WRONLY | O_CREAT | O_APPEND;
		lex_next(lx);
		if (lx->lx_tok != TK_WORD)
			return false;
		r->r_file = lx->lx_word;
	}
	for (tail = &c->c_redirs; *tail != NULL; tail = &(*tail)->r_next)
		;
	*tail = r;
	lex_next(lx);
	return true;
}

static bool
is_redir(enum tok t)
{
	return t == TK_LT || t == TK_GT || t == TK_APPEND || t == TK_DUP;
}

static struct cmd *parse_list(struct lexer *lx);

static struct cmd *
parse_command(struct lexer *lx)
{
	struct cmd *c;

	if (lx->lx_tok == TK_LPAREN) {
		if ((c = new_cmd(lx, C_SUB)) == NULL)
			return NULL;
		lex_next(lx);
		c->c_body = parse_list(lx);
		if (parse_failed || c->c_body == NULL || lx->lx_tok != TK_RPAREN)
			return syntax_error(lx);
		lex_next(lx);
		while (is_redir(lx->lx_tok))
			if (!parse_redir(lx, c))
				return syntax_error(lx);
		return c;
	}
	if ((c = new_cmd(lx, C_EXEC)) == NULL)
		return NULL;
	for (;;) {
		if (lx->lx_tok == TK_WORD) {
			if (c->c_argc == MAXARGS) {
				lx->lx_tok = TK_ERR;
				lx->lx_err = "too many arguments";
				return syntax_error(lx);
			}
			c->c_argv[c->c_argc++] = lx->lx_word;
			lex_next(lx);
		} else if (is_redir(lx->lx_tok)) {
			if (!parse_redir(lx, c))
				return syntax_error(lx);
		} else {
			break;
		}
	}
	if (c->c_argc == 0 && c->c_redirs == NULL)
		return syntax_error(lx);
	return c;
}

static struct cmd *
parse_pipeline(struct lexer *lx)
{
	struct cmd *left = parse_command(lx), *c;

	if (left == NULL || lx->lx_tok != TK_PIPE)
		return left;
	lex_next(lx);
	if ((c = new_cmd(lx, C_PIPE)) == NULL)
		return NULL;
	c->c_left = left;
	c->c_right = parse_pipeline(lx);
	return c->c_right != NULL ? c : NULL;
}

// A list ends at the end of the line or at ')'; it may be empty.
static struct cmd *
parse_list(struct lexer *lx)
{
	struct cmd *left, *c;

	if (lx->lx_tok == TK_END || lx->lx_tok == TK_RPAREN)
		return NULL;
	left = parse_pipeline(lx);
	if (left == NULL || (lx->lx_tok != TK_SEMI && lx->lx_tok != TK_AMP))
		return left;
	if ((c = new_cmd(lx, C_LIST)) == NULL)
		return NULL;
	c->c_left = left;
	c->c_bg = (lx->lx_tok == TK_AMP);
	lex_next(lx);
	c->c_right = parse_list(lx);
	return parse_failed ? NULL : c;
}

// Parse a whole line. NULL for an empty line or after a syntax error
// (*ok tells which).
static struct cmd *
parse_line(char *line, bool *ok)
{
	struct lexer lx = { .lx_p = line };
	struct cmd *c;

	arena_used = 0;
	parse_failed = false;
	lex_next(&lx);
	c = parse_list(&lx);
	if (!parse_failed && lx.lx_tok != TK_END)
		syntax_error(&lx);
	*ok = !parse_failed;
	return parse_failed ? NULL : c;
}

// ---- execution -------------------------------------------------------------

static int run_list(struct cmd *c);
static int laststatus;    // status of the last foreground command

// Wait until the child pid has exited; return its status. Other children
// (background jobs) found on the way are just reaped.
static int
wait_for(int pid)
{
	int status, w;

	while ((w = wait(&status)) >= 0)
		if (w == pid)
			return status;
	return -1;
}

// Apply c's redirections in the current process. False (after a message)
// if a file cannot be opened.
static bool
apply_redirs(struct redir *r)
{
	int fd;

	for (; r != NULL; r = r->r_next) {
		if (r->r_flags == -1) {
			if (dup2(r->r_dupfd, r->r_fd) < 0) {
				fprintf(2, "sh: %d: %s\n", r->r_dupfd,
					strerror(errno));
				return false;
			}
			continue;
		}
		fd = open(r->r_file, r->r_flags);
		if (fd < 0) {
			fprintf(2, "sh: %s: %s\n", r->r_file, strerror(errno));
			return false;
		}
		if (fd != r->r_fd) {
			dup2(fd, r->r_fd);
			close(fd);
		}
	}
	return true;
}

// exec argv[0] the way the header describes; exit on failure.
static void __attribute__((noreturn))
do_exec(char **argv)
{
	char path[MAXPATH + 1];
	int err;

	if (strchr(argv[0], '/') != NULL) {
		exec(argv[0], argv);
		err = errno;
	} else {
		snprintf(path, sizeof(path), "/%s", argv[0]);
		exec(path, argv);
		err = errno;
		if (err == ENOENT) {
			exec(argv[0], argv);
			err = errno;
		}
	}
	fprintf(2, "sh: %s: %s\n", argv[0], strerror(err));
	exit(err == ENOENT ? 127 : 126);
}

// Builtins that must run in the shell process. Returns true (and sets
// *status) if c was one.
static bool
builtin(struct cmd *c, int *status)
{
	if (c->c_type != C_EXEC || c->c_argc == 0)
		return false;
	if (strcmp(c->c_argv[0], "cd") == 0) {
		const char *dir = c->c_argc > 1 ? c->c_argv[1] : "/";
		*status = 0;
		if (chdir(dir) < 0) {
			fprintf(2, "sh: cd: %s: %s\n", dir, strerror(errno));
			*status = 1;
		}
		return true;
	}
	if (strcmp(c->c_argv[0], "exit") == 0)
		exit(c->c_argc > 1 ? atoi(c->c_argv[1]) : laststatus);
	return false;
}

// Run c in this (forked) process and exit with its status.
static void __attribute__((noreturn))
run_child(struct cmd *c)
{
	int p[2], lpid, rpid, status = 0;

	switch (c->c_type) {
	case C_EXEC:
		if (!apply_redirs(c->c_redirs))
			exit(1);
		if (c->c_argc == 0)
			exit(0);
		if (builtin(c, &status))
			exit(status);
		do_exec(c->c_argv);
	case C_SUB:
		if (!apply_redirs(c->c_redirs))
			exit(1);
		exit(run_list(c->c_body));
	case C_LIST:
		exit(run_list(c));
	case C_PIPE:
		if (pipe(p) < 0)
			die("sh: pipe: %s", strerror(errno));
		lpid = fork();
		if (lpid == 0) {
			dup2(p[1], 1);
			close(p[0]);
			close(p[1]);
			run_child(c->c_left);
		}
		rpid = lpid < 0 ? -1 : fork();
		if (rpid == 0) {
			dup2(p[0], 0);
			close(p[0]);
			close(p[1]);
			run_child(c->c_right);
		}
		close(p[0]);
		close(p[1]);
		if (rpid < 0)
			die("sh: fork: %s", strerror(errno));
		// The pipeline's status is the right side's; reap both.
		status = wait_for(rpid);
		if (wait_for(lpid) < 0 && errno != ECHILD)
			die("sh: wait: %s", strerror(errno));
		exit(status);
	}
	exit(1);
}

// Run c in the foreground and return its exit status.
static int
run_fg(struct cmd *c)
{
	int pid, status = 0;

	if (builtin(c, &status))
		return status;
	pid = fork();
	if (pid == 0)
		run_child(c);
	if (pid < 0) {
		fprintf(2, "sh: fork: %s\n", strerror(errno));
		return 1;
	}
	return wait_for(pid);
}

// Run a list in the shell process; returns the last command's status.
static int
run_list(struct cmd *c)
{
	int pid;

	if (c == NULL)
		return laststatus;
	if (c->c_type != C_LIST)
		return laststatus = run_fg(c);
	if (c->c_bg) {
		pid = fork();
		if (pid == 0)
			run_child(c->c_left);
		if (pid < 0)
			fprintf(2, "sh: fork: %s\n", strerror(errno));
		else
			fprintf(2, "[%d]\n", pid);
		laststatus = pid < 0 ? 1 : 0;
	} else {
		laststatus = run_fg(c->c_left);
	}
	return run_list(c->c_right);
}

// ---- main loop -------------------------------------------------------------

// Read a line into buf; false at end of input. A line that does not fit
// is reported, skipped and returned as an empty line.
static bool
read_line(int fd, char *buf, int max)
{
	size_t n;

	if (fgets(buf, max, fd) == NULL)
		return false;
	n = strlen(buf);
	if (n < (size_t)max - 1 || buf[n - 1] == '\n')
		return true;
	while (fgets(buf, max, fd) != NULL && buf[strlen(buf) - 1] != '\n')
		;
	fprintf(2, "sh: line too long (max %d bytes)\n", max - 2);
	buf[0] = '\0';
	return true;
}

int
main(int argc, char *argv[])
{
	static char line[LINEMAX];
	struct cmd *c;
	struct stat st;
	bool ok, prompt;
	int in = 0;

	if (argc > 2)
		die("usage: sh [script]");
	if (argc == 2 && (in = open(argv[1], O_RDONLY)) < 0)
		die("sh: %s: %s", argv[1], strerror(errno));
	prompt = in == 0 && fstat(0, &st) == 0 && st.type == T_DEVICE;
	for (;;) {
		if (prompt)
			fprintf(2, "$ ");
		if (!read_line(in, line, sizeof(line)))
			break;
		c = parse_line(line, &ok);
		if (!ok)
			laststatus = 2;
		else if (c != NULL)
			run_list(c);
	}
	return laststatus;
}
