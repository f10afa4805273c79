import { codeDownStep } from './code-down.js';
import { createImageStep } from './create-image.js';
import { ftpStep } from './ftp.js';
import { httpStep } from './http.js';
import { shellStep } from './shell.js';
import type { StepExecutors } from './types.js';
import { userTaskStep } from './user-task.js';

/** Every step type really executed; none is a stub. */
export const stepExecutors: StepExecutors = {
  CODE_DOWN: codeDownStep,
  USER_TASK: userTaskStep,
  FTP: ftpStep,
  HTTP: httpStep,
  SHELL: shellStep,
  CREATE_IMAGE: createImageStep,
};
