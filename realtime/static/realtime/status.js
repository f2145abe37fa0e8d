// Pages without live content of their own still show whether the server is reachable.
import { connect } from './page.js'

connect(['jobs_rescored'])
