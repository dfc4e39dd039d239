/* The do-nothing program the launchers start (x86_64 Linux).
 *
 * Default (bench --program tiny): gcc -static -nostdlib -O2: _start exits 0 at once. One
 * page of code, no libc start-up, so what the table shows is the launchers' cost, not
 * the C library's.
 * With -DWITH_LIBC (bench --program libc): gcc -static -O2, int main(void) { return 0; }.
 * glibc's static start-up executes CPUID a few dozen times; in a VM each one can be a
 * trap to the hypervisor (about 13 us each on the machine in README.md), which makes
 * this program cost ~10x the tiny one there and hides the launchers' cost behind it.
 */
#ifdef WITH_LIBC
int main(void) { return 0; }
#else
void _start(void) {
    __asm__ volatile("mov $231, %%eax\n\txor %%edi, %%edi\n\tsyscall" ::: "memory");   /* exit_group(0) */
    __builtin_unreachable();
}
#endif
