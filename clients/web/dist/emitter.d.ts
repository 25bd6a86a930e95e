/** A typed event emitter in the shape of `mitt`: `on` returns the function that undoes it. */
export declare class Emitter<Events extends object> {
    private readonly handlers;
    on<K extends keyof Events>(type: K, handler: (payload: Events[K]) => void): () => void;
    off<K extends keyof Events>(type: K, handler: (payload: Events[K]) => void): void;
    emit<K extends keyof Events>(type: K, payload: Events[K]): void;
}
