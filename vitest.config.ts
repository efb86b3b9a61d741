import { defineConfig } from 'vitest/config';

// Unit tests sit next to the code (`*.test.ts`); integration tests start real clusters and live
// in tests/integration with their own, explicit timeouts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // tests/kind: the kind engine's scripts (engine/kind/) with fixtures; bash and jq, no Docker.
          include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'tests/unit/**/*.test.ts', 'tests/kind/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          // Scenario timelines spread over minutes; tests seed them in seconds (TEST_TIME_SCALE).
          env: { IRLAB_SCENARIO_TIME_SCALE: '0.002' },
        },
      },
      {
        test: {
          // Real kind clusters on the node image engine/kind/build.sh builds (npm test's kind stage).
          name: 'kind',
          include: ['tests/kind-clusters/**/*.test.ts'],
          globalSetup: ['tests/kind-clusters/global-setup.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 420_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // The store-level tests again, on PostgreSQL: the global setup starts a throwaway server
          // from Debian's binaries (scripts/postgres.sh); store-test-kit.ts then gives PostgreSQL.
          name: 'postgres',
          include: [
            'src/server/store/*.test.ts',
            'src/server/learners/learners.test.ts',
            'src/server/learners/identities.test.ts',
            'src/server/instructors/roles.test.ts',
            'src/server/accounts/merge.test.ts',
            'src/server/accounts/pending-sign-ins.test.ts',
            'src/server/accounts/sign-in.test.ts',
            'src/server/quiz/attempts.test.ts',
            'src/server/quiz/reveal.test.ts',
            'src/server/drill/service.test.ts',
            'src/server/drill/races.test.ts',
            'src/server/cells/registry.test.ts',
            'src/server/cells/cell-gate.test.ts',
            'src/server/cells/cell-membership.test.ts',
            'src/server/cells/warm-sizer.test.ts',
            'src/server/limits/shared-buckets.test.ts',
            'src/server/classes/classes.test.ts',
            'src/server/classes/dashboard.test.ts',
            'src/server/classes/schedule.test.ts',
            'src/server/lti/grade-passback.test.ts',
            'src/server/lti/tool-key.test.ts',
            'src/server/xapi/sender.test.ts',
            // Real server processes over the built site on one database (needs the engine and the build).
            'tests/postgres/*.test.ts',
            'src/server/lab/lab-runs.test.ts',
            'src/server/lab/run-lifecycle.test.ts',
            'src/server/lab/hint-view.test.ts',
            'src/server/lab/cluster-recovery.test.ts',
          ],
          globalSetup: ['tests/postgres/global-setup.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
