// Starts govuk-frontend's components (served from the binary, no CDN).
import { initAll } from '/assets/govuk/govuk-frontend.min.js'
initAll()
