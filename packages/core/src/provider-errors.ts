import { ApiError } from './http.ts'

type ProviderFailure = { type?: unknown; statusCode?: unknown; code?: unknown }

const isStripeError = (error: unknown): error is ProviderFailure =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as ProviderFailure).type === 'string' &&
  String((error as ProviderFailure).type).startsWith('Stripe')

/**
 * Turns a provider SDK failure into the error the caller should see: an unknown id is 404, any
 * other provider failure 502 PROVR (never the provider's message); our own errors pass through.
 */
export const asProviderError = (error: unknown): unknown => {
  if (!isStripeError(error)) return error
  if (error.statusCode === 404 || error.code === 'resource_missing') {
    return new ApiError('NOTFD', { message: 'The payment provider does not know this id' })
  }
  return new ApiError('PROVR', {
    details: { provider: 'stripe', code: typeof error.code === 'string' ? error.code : null },
    cause: error,
  })
}
