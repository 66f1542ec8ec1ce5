// poolifier task: returns its argument.
import { ThreadWorker } from 'poolifier';

export default new ThreadWorker((v) => v);
