/*
 * epoll-echo-c: the tutorial's timestamp echo server as one epoll(7) event
 * loop, the way it is written in C: non-blocking fds in a level-triggered
 * epoll set, a table of connections indexed by fd, a per-connection output
 * buffer, and EPOLLOUT asked for only while a write is short. Each recv(2)
 * of up to 1024 bytes is answered with ctime(3) (24 bytes, without its
 * newline) followed by the bytes received.
 *
 *   cc -O2 -o epoll-echo-c server.c && ./epoll-echo-c [-b HOST] [-p PORT]
 *
 * It prints "listening on HOST:PORT" once ready (-p 0: the kernel picks the
 * port). ../epoll-echo-go/main.go is its line-for-line port onto
 * rawsock.Epoll.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFSIZE 1024          /* the tutorial's BUFSIZ */
#define STAMPLEN 24           /* strlen(ctime(&t)) without the '\n' */
#define MAXEVENTS 256         /* events taken per epoll_wait */
#define OUTMAX (64 * 1024)    /* stop reading a client that leaves this much unread */

struct conn {
	char *out;            /* unsent answer bytes: out[off:len] */
	size_t off, len, cap;
	unsigned events;      /* the epoll mask now registered */
	int eof;              /* the client closed its side: flush, then close */
};

static int ep;                /* the epoll instance */
static int lfd;               /* the listening socket */
static int accepting = 1;     /* 0 while EMFILE/ENFILE keeps lfd out of the set */
static struct conn **conns;   /* by fd */
static int nconns;            /* the table's size */

static void die(const char *what)
{
	fprintf(stderr, "epoll-echo-c: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* now_ctime returns ctime(3) of now without the newline, formatted once a
 * second: the string changes no more often than that. */
static const char *now_ctime(void)
{
	static char stamp[32];
	static time_t last = -1;
	time_t t = time(NULL);

	if (t != last) {
		ctime_r(&t, stamp);
		last = t;
	}
	return stamp;
}

/* raise_nofile lifts the soft RLIMIT_NOFILE to the hard one, so that
 * thousands of clients fit, and sizes the connection table to it. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit");
	nconns = rl.rlim_cur > (1 << 20) ? (1 << 20) : (int)rl.rlim_cur;
	conns = calloc(nconns, sizeof *conns);
	if (conns == NULL)
		die("calloc");
}

/* set_events changes fd's epoll mask when it differs: epoll_ctl(MOD). */
static void set_events(int fd, struct conn *c, unsigned events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (c->events == events)
		return;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0)
		die("epoll_ctl");
	c->events = events;
}

/* close_conn: close(2) takes fd out of the epoll set; a paused listener
 * may accept again now that an fd is free. */
static void close_conn(int fd)
{
	struct conn *c = conns[fd];
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };

	close(fd);
	free(c->out);
	free(c);
	conns[fd] = NULL;
	if (!accepting) {
		if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
			die("epoll_ctl");
		accepting = 1;
	}
}

/* keep appends the unsent tail of an answer to the output buffer. */
static int keep(struct conn *c, const char *p, size_t n)
{
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *out;

		while (cap < c->len + n)
			cap *= 2;
		out = realloc(c->out, cap);
		if (out == NULL)
			return -1;
		c->out = out;
		c->cap = cap;
	}
	memcpy(c->out + c->len, p, n);
	c->len += n;
	return 0;
}

/* flush sends what the output buffer holds; -1 means close. */
static int flush(int fd, struct conn *c)
{
	while (c->off < c->len) {
		ssize_t w = send(fd, c->out + c->off, c->len - c->off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0)
			return -1;
		c->off += w;
	}
	if (c->off == c->len)
		c->off = c->len = 0;
	return 0;
}

/* update asks for EPOLLOUT while answers wait, and stops reading a client
 * that leaves more than OUTMAX of them unread, or that has closed. */
static void update(int fd, struct conn *c)
{
	unsigned events = 0;

	if (!c->eof && c->len - c->off < OUTMAX)
		events |= EPOLLIN;
	if (c->len > c->off)
		events |= EPOLLOUT;
	set_events(fd, c, events);
}

/* on_accept takes every pending connection: accept4(2) until EAGAIN. */
static void on_accept(void)
{
	for (;;) {
		int one = 1;
		struct epoll_event ev = { .events = EPOLLIN };
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of fds: level-triggered, lfd would wake us at
				 * once, forever. Leave it out until a client leaves. */
				if (epoll_ctl(ep, EPOLL_CTL_DEL, lfd, NULL) < 0)
					die("epoll_ctl");
				accepting = 0;
				return;
			}
			die("accept4");
		}
		if (fd >= nconns) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		conns[fd] = calloc(1, sizeof(struct conn));
		if (conns[fd] == NULL)
			die("calloc");
		ev.data.fd = fd;
		conns[fd]->events = EPOLLIN;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl");
	}
}

/* on_readable answers one recv(2): ctime + the bytes, sent at once if
 * nothing is queued before it, else queued behind what is. */
static void on_readable(int fd, struct conn *c)
{
	char reply[STAMPLEN + BUFSIZE];
	ssize_t n = recv(fd, reply + STAMPLEN, BUFSIZE, 0);
	size_t off = 0;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		close_conn(fd);
		return;
	}
	if (n == 0) {
		c->eof = 1;
	} else {
		memcpy(reply, now_ctime(), STAMPLEN);
		n += STAMPLEN;
		if (c->len == c->off) {
			ssize_t w = send(fd, reply, n, MSG_NOSIGNAL);

			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				close_conn(fd);
				return;
			}
			off = w < 0 ? 0 : w;
		}
		if (off < (size_t)n && keep(c, reply + off, n - off) < 0) {
			close_conn(fd);
			return;
		}
	}
	if (c->eof && c->len == c->off) {
		close_conn(fd);
		return;
	}
	update(fd, c);
}

/* on_writable sends what short writes left behind. */
static void on_writable(int fd, struct conn *c)
{
	if (flush(fd, c) < 0 || (c->eof && c->len == c->off)) {
		close_conn(fd);
		return;
	}
	update(fd, c);
}

int main(int argc, char **argv)
{
	const char *host = "0.0.0.0";
	int port = 9999, opt, one = 1;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sinlen = sizeof sin;
	struct epoll_event ev = { .events = EPOLLIN }, events[MAXEVENTS];
	char name[INET_ADDRSTRLEN];

	while ((opt = getopt(argc, argv, "b:p:")) != -1) {
		switch (opt) {
		case 'b': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-b HOST] [-p PORT]\n", argv[0]);
			return 2;
		}
	}
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 || port < 0 || port > 65535) {
		fprintf(stderr, "epoll-echo-c: bad address %s:%d\n", host, port);
		return 2;
	}
	sin.sin_port = htons(port);
	raise_nofile();
	tzset();

	/* socket(2), bind(2), listen(2): the listener, non-blocking too. */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0)
		die("bind");
	if (listen(lfd, SOMAXCONN) < 0)
		die("listen");
	if (getsockname(lfd, (struct sockaddr *)&sin, &sinlen) < 0)
		die("getsockname");
	inet_ntop(AF_INET, &sin.sin_addr, name, sizeof name);
	printf("listening on %s:%d\n", name, ntohs(sin.sin_port));
	fflush(stdout);

	/* epoll_create1(2), epoll_ctl(2): the set, with the listener in it. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll_ctl");

	/* epoll_wait(2): the loop. */
	for (;;) {
		int n = epoll_wait(ep, events, MAXEVENTS, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			unsigned e = events[i].events;

			if (fd == lfd) {
				on_accept();
				continue;
			}
			/* An earlier event of this round may have closed fd. */
			if (conns[fd] != NULL && (e & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				on_readable(fd, conns[fd]);
			if (conns[fd] != NULL && (e & EPOLLOUT))
				on_writable(fd, conns[fd]);
		}
	}
}
