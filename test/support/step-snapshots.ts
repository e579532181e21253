// The steps' part of a shard's live snapshot, recorded by the engine's own step recorders: two steps over
// seconds 0–11, for tests of the live merge and its views.

import { SNAPSHOT_SECONDS_KEPT } from '../../lib/loadtest/live.ts';
import { StepRecorder, snapshotSteps } from '../../lib/loadtest/step-recorder.ts';
import { parseScenario } from '../../lib/scenario/schema.ts';

/** Two steps, the second with two checks; the shard recorded seconds 0–11 of each (4 logins, 6 lists a second). */
export function stepsOf(loginMs: number, listMs: number, failingChecks: number) {
  const login = new StepRecorder(0, SNAPSHOT_SECONDS_KEPT);
  const list = new StepRecorder(2, SNAPSHOT_SECONDS_KEPT);
  for (let second = 0; second < 12; second++) {
    for (let request = 0; request < 4; request++) login.record(second, loginMs, 200, null, false);
    for (let request = 0; request < 6; request++) {
      list.record(second, listMs, 200, null, false);
      list.recordCheck(0, true);
      list.recordCheck(1, request >= failingChecks);
    }
  }
  return snapshotSteps([login, list], 12);
}

/** The run those two steps belong to: login, then list with its two checks. */
export const scenario = parseScenario({
  flows: [
    {
      steps: [
        { name: 'login', method: 'POST', path: '/login' },
        {
          name: 'list',
          path: '/items',
          checks: [{ status: 200 }, { name: 'has items', json: '$.items', exists: true }],
        },
      ],
    },
  ],
});
