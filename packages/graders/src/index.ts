export type { GradeInput, GradeResult, Grader, GraderRegistry } from './grader';
