import { describe, expect, it } from 'vitest';
import { DRILL_FILE } from '../drill/load.ts';
import { LABS_DIR } from '../lab/labs.ts';
import { LESSONS_DIR } from './lessons.ts';
import { QUIZZES_DIR } from './quizzes.ts';
import { SCENARIO_FILE, SCENARIOS_DIR } from '../scenarios/load.ts';
import * as validate from './validate-at.ts';

describe('validate-at.ts', () => {
  it('names the content folders as the modules that read them do', () => {
    expect({ ...validate }).toMatchObject({ LESSONS_DIR, QUIZZES_DIR, LABS_DIR, SCENARIOS_DIR, SCENARIO_FILE, DRILL_FILE });
  });
});
