/** The sign-in token lives for the browser tab only (sessionStorage), never in a cookie. */
const KEY = 'training-dashboard.token';

export const readToken = (): string | null => sessionStorage.getItem(KEY);
export const storeToken = (token: string) => sessionStorage.setItem(KEY, token);
export const forgetToken = () => sessionStorage.removeItem(KEY);
