/* The pod sandbox's "pause" process, as registry.k8s.io/pause does it: sleep until
 * told to stop, reap the children it inherits as a PID namespace's init. Built
 * static by node-image.sh with gcc, so its image is this one file. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef IRLAB_PAUSE_VERSION
#define IRLAB_PAUSE_VERSION "dev"
#endif

static void stop(int sig) { _exit(sig == SIGINT || sig == SIGTERM ? 0 : 1); }

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    printf("pause.c irlab %s\n", IRLAB_PAUSE_VERSION);
    return 0;
  }
  if (getpid() != 1) fprintf(stderr, "warning: pause should be the first process\n");
  struct sigaction stop_sa = {.sa_handler = stop};
  struct sigaction reap_sa = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
  if (sigaction(SIGINT, &stop_sa, NULL) < 0 || sigaction(SIGTERM, &stop_sa, NULL) < 0 ||
      sigaction(SIGCHLD, &reap_sa, NULL) < 0)
    return 1;
  for (;;) pause();
}
