// Progressive enhancement only: every page works without this script.
import { initAll } from '/assets/nhsuk/nhsuk-frontend.min.js'
initAll()
