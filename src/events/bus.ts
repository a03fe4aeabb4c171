import { EventEmitter } from 'node:events';

/**
 * Domain events, named as Chatwoot names them (conversation_created, message_created, …).
 * Services emit after their transaction commits; listeners (realtime, webhooks, automation)
 * subscribe. Side effects that must not be lost go through the outbox, not through here.
 */
export interface DomainEvents {
  'account.created': { accountId: number };
  'conversation.created': { accountId: number; conversationId: number };
  'conversation.updated': { accountId: number; conversationId: number; changed: string[] };
  'conversation.status_changed': { accountId: number; conversationId: number; status: string };
  'message.created': { accountId: number; conversationId: number; messageId: number };
  'message.updated': { accountId: number; conversationId: number; messageId: number };
  'contact.created': { accountId: number; contactId: number };
  'contact.updated': { accountId: number; contactId: number };
}

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  emit<K extends keyof DomainEvents>(name: K, payload: DomainEvents[K]): void {
    this.emitter.emit(name, payload);
  }

  on<K extends keyof DomainEvents>(name: K, listener: (payload: DomainEvents[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
