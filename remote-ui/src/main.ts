/** Entry point of the Remote UI bundle. */
import './rui-app.ts';
