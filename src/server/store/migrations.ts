/**
 * Every module's migrations, in the order they must run (a module whose tables reference
 * another's comes after it). Later modules (labs, drills) append their lists here.
 */
import type { Migration } from './database.ts';
import { learnerMigrations } from '../learners/migrations.ts';
import { quizMigrations } from '../quiz/migrations.ts';
import { labMigrations } from '../lab/migrations.ts';
import { drillMigrations } from '../drill/migrations.ts';
import { xapiMigrations } from '../xapi/migrations.ts';
import { instructorMigrations } from '../instructors/migrations.ts';
import { accountMigrations } from '../accounts/migrations.ts';
import { classMigrations } from '../classes/migrations.ts';
import { ltiMigrations } from '../lti/migrations.ts';
import { cellMigrations } from '../cells/migrations.ts';
import { rateBucketMigrations } from '../limits/shared-buckets.ts';

export const allMigrations: readonly Migration[] = [...learnerMigrations, ...quizMigrations, ...labMigrations, ...drillMigrations, ...xapiMigrations, ...instructorMigrations, ...accountMigrations, ...classMigrations, ...ltiMigrations, ...cellMigrations, ...rateBucketMigrations];
