/* lx-files: files and directories through the Linux personality and the
 * fs server, with the errno values Linux gives. */
#include "check.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static void read_write(void)
{
    char buf[64];
    CHECK(mkdir("/tmp-lx", 0755) == 0);
    CHECK_ERRNO(mkdir("/tmp-lx", 0755), EEXIST);
    int fd = open("/tmp-lx/a.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 3);
    CHECK(write(fd, "hello, files\n", 13) == 13);
    CHECK(lseek(fd, 0, SEEK_CUR) == 13);
    CHECK(lseek(fd, 7, SEEK_SET) == 7);
    CHECK(read(fd, buf, sizeof(buf)) == 6 && memcmp(buf, "files\n", 6) == 0);
    CHECK(read(fd, buf, sizeof(buf)) == 0); /* end of file */
    CHECK(pwrite(fd, "HELLO", 5, 0) == 5);
    CHECK(pread(fd, buf, 5, 0) == 5 && memcmp(buf, "HELLO", 5) == 0);
    struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
    CHECK(lseek(fd, 0, SEEK_END) == 13);
    CHECK(writev(fd, iov, 2) == 4);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 17 && S_ISREG(st.st_mode));
    /* a file mapped read-only: its bytes, and the file position untouched */
    off_t pos = lseek(fd, 0, SEEK_CUR);
    char *map = mmap(NULL, 17, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(map != MAP_FAILED && memcmp(map, "HELLO, files\nabcd", 17) == 0 && map[17] == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == pos);
    CHECK(munmap(map, 17) == 0);
    CHECK_ERRNO(mmap(NULL, 17, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), ENODEV);
    CHECK_ERRNO(mmap(NULL, 17, PROT_READ, MAP_PRIVATE, 99, 0), EBADF);
    CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5);
    /* dup shares the file position */
    int fd2 = dup(fd);
    CHECK(fd2 > fd);
    CHECK(lseek(fd, 1, SEEK_SET) == 1 && lseek(fd2, 0, SEEK_CUR) == 1);
    CHECK(dup2(fd, 20) == 20 && close(20) == 0);
    CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
    CHECK(close(fd2) == 0 && close(fd) == 0);
    CHECK_ERRNO(close(fd), EBADF);
    CHECK_ERRNO(read(99, buf, 1), EBADF);
    CHECK_ERRNO(lseek(0, 0, SEEK_SET), ESPIPE);
}

static void names(void)
{
    struct stat st;
    CHECK_ERRNO(open("/no/such/file", O_RDONLY), ENOENT);
    CHECK_ERRNO(open("/tmp-lx/a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    CHECK_ERRNO(open("/tmp-lx", O_WRONLY), EISDIR);
    CHECK_ERRNO(open("/tmp-lx/a.txt", O_RDONLY | O_DIRECTORY), ENOTDIR);
    CHECK(stat("/tmp-lx", &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(stat("/tmp-lx/../tmp-lx/./a.txt", &st) == 0 && st.st_size == 5);
    CHECK(access("/tmp-lx/a.txt", F_OK) == 0);
    CHECK_ERRNO(access("/tmp-lx/b.txt", F_OK), ENOENT);
    CHECK(rename("/tmp-lx/a.txt", "/tmp-lx/b.txt") == 0);
    CHECK_ERRNO(stat("/tmp-lx/a.txt", &st), ENOENT);
    /* the cwd and relative names */
    char cwd[64];
    CHECK(chdir("/tmp-lx") == 0);
    CHECK(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/tmp-lx") == 0);
    CHECK(open("rel.txt", O_CREAT | O_WRONLY, 0644) >= 0);
    CHECK(stat("/tmp-lx/rel.txt", &st) == 0);
    CHECK_ERRNO(chdir("/tmp-lx/b.txt"), ENOTDIR);
    errno = 0;
    CHECK(getcwd(cwd, 3) == NULL && errno == ERANGE);
    /* a directory listing */
    DIR *d = opendir(".");
    CHECK(d != NULL);
    int seen = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        seen += (strcmp(e->d_name, "b.txt") == 0 && e->d_type == DT_REG) +
                (strcmp(e->d_name, "rel.txt") == 0) * 2;
    CHECK(seen == 3);
    if (d)
        closedir(d);
    /* removing */
    CHECK_ERRNO(rmdir("/tmp-lx"), ENOTEMPTY);
    CHECK_ERRNO(unlink("/tmp-lx"), EISDIR);
    CHECK_ERRNO(rmdir("/tmp-lx/b.txt"), ENOTDIR);
    CHECK(unlink("b.txt") == 0 && unlink("rel.txt") == 0);
    CHECK(chdir("/") == 0 && rmdir("/tmp-lx") == 0);
    CHECK_ERRNO(stat("/tmp-lx", &st), ENOENT);
    char longname[80];
    memset(longname, 'x', sizeof(longname));
    longname[0] = '/';
    longname[79] = '\0';
    CHECK_ERRNO(open(longname, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
    /* the bootfs is there, read-only underneath */
    int fd = open("/boot/manifest", O_RDONLY);
    char buf[16];
    CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) > 0);
    close(fd);
}

/* sendfile from a file to a file: whole, from an offset (which moves
 * while the file position does not), and the refusals. */
static void send_file(void)
{
    char buf[64];
    CHECK(mkdir("/tmp-send", 0755) == 0);
    int in = open("/tmp-send/in", O_CREAT | O_RDWR | O_TRUNC, 0644);
    int out = open("/tmp-send/out", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(in >= 3 && out >= 3);
    CHECK(write(in, "0123456789", 10) == 10 && lseek(in, 0, SEEK_SET) == 0);
    CHECK(sendfile(out, in, NULL, 100) == 10);
    CHECK(lseek(in, 0, SEEK_CUR) == 10);
    off_t off = 4;
    CHECK(sendfile(out, in, &off, 3) == 3 && off == 7);
    CHECK(lseek(in, 0, SEEK_CUR) == 10); /* with an offset the position stays */
    CHECK(pread(out, buf, sizeof(buf), 0) == 13 && memcmp(buf, "0123456789456", 13) == 0);
    CHECK(sendfile(out, in, NULL, 5) == 0); /* at the end */
    int fds[2];
    CHECK(pipe(fds) == 0);
    CHECK_ERRNO(sendfile(out, fds[0], NULL, 5), EINVAL); /* from a pipe */
    CHECK_ERRNO(sendfile(out, 99, NULL, 5), EBADF);
    off = -1;
    CHECK_ERRNO(sendfile(out, in, &off, 5), EINVAL);
    CHECK(close(fds[0]) == 0 && close(fds[1]) == 0 && close(in) == 0 && close(out) == 0);
    CHECK(unlink("/tmp-send/in") == 0 && unlink("/tmp-send/out") == 0 && rmdir("/tmp-send") == 0);
}

/* Write `text` to a new file at path. */
static void put(const char *path, const char *text)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

/* POSIX corners: making what exists is EEXIST even for "/" (mkdir -p),
 * rename replaces a file or an empty directory with Linux's errnos for the
 * rest, a listing starts with "." and "..", /tmp is there from boot, and a
 * file grows past 16 MiB. Each of these failed before. */
static void posix_names(void)
{
    struct stat st;
    char buf[4];
    CHECK(stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_ERRNO(mkdir("/", 0755), EEXIST);
    CHECK_ERRNO(mkdir("/tmp", 0755), EEXIST);
    CHECK(mkdir("/tmp/px", 0755) == 0);
    CHECK_ERRNO(mkdir("/tmp/px/no/x", 0755), ENOENT);
    put("/tmp/px/a", "new");
    put("/tmp/px/b", "old contents");
    CHECK(rename("/tmp/px/a", "/tmp/px/b") == 0);
    CHECK(stat("/tmp/px/b", &st) == 0 && st.st_size == 3);
    CHECK_ERRNO(stat("/tmp/px/a", &st), ENOENT);
    CHECK(rename("/tmp/px/b", "/tmp/px/b") == 0);
    CHECK(mkdir("/tmp/px/d", 0755) == 0 && mkdir("/tmp/px/e", 0755) == 0);
    CHECK(mkdir("/tmp/px/full", 0755) == 0);
    put("/tmp/px/full/f", "x");
    CHECK_ERRNO(rename("/tmp/px/d", "/tmp/px/full"), ENOTEMPTY);
    CHECK_ERRNO(rename("/tmp/px/d", "/tmp/px/b"), ENOTDIR);
    CHECK_ERRNO(rename("/tmp/px/b", "/tmp/px/d"), EISDIR);
    CHECK_ERRNO(rename("/tmp/px/d", "/tmp/px/d/sub"), EINVAL);
    CHECK_ERRNO(rename("/tmp/px/b", "/tmp/px/b/x"), ENOTDIR);
    CHECK(rename("/tmp/px/d", "/tmp/px/e") == 0);
    CHECK_ERRNO(stat("/tmp/px/d", &st), ENOENT);
    CHECK(stat("/tmp/px/e", &st) == 0 && S_ISDIR(st.st_mode));
    /* ".", "..", then the three entries */
    DIR *d = opendir("/tmp/px");
    CHECK(d != NULL);
    struct dirent *e = d ? readdir(d) : NULL;
    CHECK(e && strcmp(e->d_name, ".") == 0 && e->d_type == DT_DIR);
    e = d ? readdir(d) : NULL;
    CHECK(e && strcmp(e->d_name, "..") == 0 && e->d_type == DT_DIR);
    int rest = 0;
    while (d && (e = readdir(d)))
        rest++;
    CHECK(rest == 3);
    if (d)
        closedir(d);
    /* 40 MiB and 3 bytes: the file limit was 16 MiB, the fs's 4 MiB */
    int fd = open("/tmp/px/big", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0 && lseek(fd, 40 << 20, SEEK_SET) == 40 << 20);
    CHECK(write(fd, "end", 3) == 3);
    CHECK(fstat(fd, &st) == 0 && st.st_size == (40 << 20) + 3);
    CHECK(pread(fd, buf, 3, 40 << 20) == 3 && memcmp(buf, "end", 3) == 0);
    CHECK(pread(fd, buf, 1, 20 << 20) == 1 && buf[0] == 0);
    CHECK(close(fd) == 0 && unlink("/tmp/px/big") == 0);
    CHECK(unlink("/tmp/px/full/f") == 0 && rmdir("/tmp/px/full") == 0);
    CHECK(rmdir("/tmp/px/e") == 0 && unlink("/tmp/px/b") == 0 && rmdir("/tmp/px") == 0);
}

int main(void)
{
    read_write();
    names();
    posix_names();
    send_file();
    return finish("lx-files");
}
