/* lx-threads: POSIX threads (musl's, over clone(CLONE_THREAD), futex and
 * set_tid_address) through the Linux personality. */
#include "check.h"
#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static long counter;
static int slot, taken;
static __thread int mine;
static pid_t tids[4];

static void *add(void *arg)
{
    long id = (long)arg;
    mine = (int)id + 100; /* thread-local: each thread its own */
    tids[id] = gettid();
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        if (i % 500 == 0)
            sched_yield();
    }
    return (void *)(long)(mine * 2);
}

static void *consumer(void *arg)
{
    (void)arg;
    long sum = 0;
    for (int n = 0; n < 50; n++) {
        pthread_mutex_lock(&lock);
        while (!slot)
            pthread_cond_wait(&changed, &lock);
        sum += slot;
        slot = 0;
        taken++;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
    }
    return (void *)sum;
}

static volatile int ping, pong;

/* Answers each ping of main's, spinning on sched_yield in between. */
static void *ponger(void *arg)
{
    (void)arg;
    for (int n = 1; n <= 20; n++) {
        while (ping != n)
            sched_yield();
        pong = n;
    }
    return NULL;
}

int main(void)
{
    pthread_t t[4], c;
    mine = 7;
    for (long i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, add, (void *)i) == 0);
    for (long i = 0; i < 4; i++) {
        void *ret;
        CHECK(pthread_join(t[i], &ret) == 0 && (long)ret == 2 * (100 + i));
    }
    CHECK(counter == 8000);
    CHECK(mine == 7);
    for (int i = 0; i < 4; i++) {
        CHECK(tids[i] > 0 && tids[i] != getpid());
        for (int j = 0; j < i; j++)
            CHECK(tids[i] != tids[j]);
    }
    /* a condition variable hand-off between two threads */
    CHECK(pthread_create(&c, NULL, consumer, NULL) == 0);
    long want = 0;
    for (int n = 1; n <= 50; n++) {
        pthread_mutex_lock(&lock);
        while (slot)
            pthread_cond_wait(&changed, &lock);
        slot = n;
        want += n;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
    }
    void *sum;
    CHECK(pthread_join(c, &sum) == 0 && (long)sum == want && taken == 50);
    /* a timed wait times out */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 50000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&lock);
    CHECK(pthread_cond_timedwait(&changed, &lock, &until) == ETIMEDOUT);
    pthread_mutex_unlock(&lock);
    /* sched_yield gives the CPU to the other ready thread: twenty hand-offs
     * of a few yields each, where a yield that returned at once would spin
     * until the time slice ran out (thousands of calls on one CPU). */
    long spins = 0;
    pthread_t p;
    CHECK(pthread_create(&p, NULL, ponger, NULL) == 0);
    for (int n = 1; n <= 20; n++) {
        ping = n;
        while (pong != n) {
            sched_yield();
            spins++;
        }
    }
    CHECK(pthread_join(p, NULL) == 0);
    CHECK(spins < 20 * 50);
    printf("lx-threads: %ld yields for 20 hand-offs\n", spins);
    return finish("lx-threads");
}
